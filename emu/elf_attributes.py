"""ARM build attributes of an ELF (``.ARM.attributes``): what the compiler was told about the
target, read by a small bounds-checked parser of ours (Arm ABI addenda, "Build
attributes"). pyelftools' own reader can loop forever on a zero subsection length.
"""

import struct
from typing import NamedTuple

from elftools.elf.elffile import ELFFile


class CpuHints(NamedTuple):
    """What the build attributes say about the target (Arm ABI addenda, build attributes).

    Every field is None when the file has no `.ARM.attributes` section or lacks the tag.
    """

    name: str | None = None  # Tag_CPU_name, such as "7E-M" or "cortex-m4"
    arch: str | None = None  # Tag_CPU_arch, such as "v7-M"
    fp_arch: str | None = None  # Tag_FP_arch, such as "VFPv4-D16"
    vfp_args: bool = False  # Tag_ABI_VFP_args: arguments passed in FP registers

    @property
    def has_fpu(self) -> bool:
        """Tell whether the code was built to use a floating-point unit."""
        return self.fp_arch is not None


def read_cpu_hints(elf: ELFFile) -> CpuHints:
    """The CPU hints from the "aeabi" file attributes of `.ARM.attributes`."""
    section = elf.get_section_by_name(".ARM.attributes")
    if section is None or section["sh_type"] == "SHT_NOBITS":
        return CpuHints()
    tags = read_aeabi_attributes(section.data())
    return CpuHints(
        name=tags.get(TAG_CPU_NAME),
        arch=CPU_ARCH_NAMES.get(tags.get(TAG_CPU_ARCH)),
        fp_arch=FP_ARCH_NAMES.get(tags.get(TAG_FP_ARCH)),
        vfp_args=tags.get(TAG_ABI_VFP_ARGS) == 1,
    )


# Build attribute tags and values (Arm ABI "Addenda to, and Errata in, the ABI for the Arm
# Architecture", section 2.5). The names follow what arm-none-eabi-readelf -A prints.
TAG_FILE = 1
TAG_CPU_RAW_NAME, TAG_CPU_NAME, TAG_CPU_ARCH = 4, 5, 6
TAG_FP_ARCH = 10
TAG_ABI_VFP_ARGS = 28
TAG_COMPATIBILITY = 32
STRING_TAGS = {TAG_CPU_RAW_NAME, TAG_CPU_NAME, 65, 67}
CPU_ARCH_NAMES = {
    10: "v7", 11: "v6-M", 12: "v6S-M", 13: "v7E-M", 16: "v8-M.baseline",
    17: "v8-M.mainline", 21: "v8.1-M.mainline",
}
FP_ARCH_NAMES = {
    1: "VFPv1", 2: "VFPv2", 3: "VFPv3", 4: "VFPv3-D16", 5: "VFPv4", 6: "VFPv4-D16",
    7: "FP-ARMv8", 8: "FPv5/FP-D16 for ARMv8",
}


def read_aeabi_attributes(data: bytes) -> dict[int, int | str]:
    """Decode the file-scope attributes of the "aeabi" subsection of `.ARM.attributes`.

    Layout (build attributes addenda, 2.2): the format byte 'A', then subsections of
    <u32 length><vendor NUL-terminated><sub-subsections>; a sub-subsection is <uleb tag>
    <u32 length><attributes>. Tags 4, 5, 65, 67 and odd tags above 32 hold a NUL-terminated
    string, tag 32 a ULEB128 then a string, the others a ULEB128. Bounds are checked at every
    step; damage raises ValueError.
    """
    if data[:1] != b"A":
        raise ValueError("unknown attributes format")
    pos = 1
    while pos + 4 <= len(data):
        length = struct.unpack_from("<I", data, pos)[0]
        if length < 5 or pos + length > len(data):
            raise ValueError("attribute subsection length out of range")
        vendor_end = data.index(b"\0", pos + 4, pos + length)
        if data[pos + 4:vendor_end] == b"aeabi":
            return _file_attributes(data[vendor_end + 1:pos + length])
        pos += length
    return {}


def _file_attributes(data: bytes) -> dict[int, int | str]:
    """The attributes of the first file-scope sub-subsection of an "aeabi" subsection."""
    pos = 0
    while pos < len(data):
        tag, body = _uleb128(data, pos)
        length = struct.unpack_from("<I", data, body)[0]
        if length < 5 or pos + length > len(data):
            raise ValueError("attribute sub-subsection length out of range")
        if tag == TAG_FILE:
            return _attribute_list(data[body + 4:pos + length])
        pos += length
    return {}


def _attribute_list(data: bytes) -> dict[int, int | str]:
    """Decode a run of (tag, value) attributes."""
    found: dict[int, int | str] = {}
    pos = 0
    while pos < len(data):
        tag, pos = _uleb128(data, pos)
        if tag == TAG_COMPATIBILITY:
            found[tag], pos = _uleb128(data, pos)
            _, pos = _string(data, pos)
        elif tag in STRING_TAGS or (tag > 32 and tag % 2 == 1):
            found[tag], pos = _string(data, pos)
        else:
            found[tag], pos = _uleb128(data, pos)
    return found


def _uleb128(data: bytes, pos: int) -> tuple[int, int]:
    """Decode an unsigned LEB128 at `pos`; return (value, position after it)."""
    value = shift = 0
    while True:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        shift += 7
        if byte < 0x80:
            return value, pos


def _string(data: bytes, pos: int) -> tuple[str, int]:
    """Decode a NUL-terminated string at `pos`; return (text, position after the NUL)."""
    end = data.index(b"\0", pos)
    return data[pos:end].decode("utf-8", errors="replace"), end + 1


