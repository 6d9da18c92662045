"""Loading firmware ELFs: image, symbols and lines, checked against binutils on the same file."""

import random
import re
import struct
from pathlib import Path

import pytest

from emu.elf import PF_R, PF_W, PF_X, Firmware, check_fits, load_elf, vector_table
from emu.errors import ElfError

from fixtures.build import have_compiler, run_tool

BOARD = [("flash", 0x0000_0000, 256 * 1024), ("ram", 0x2000_0000, 64 * 1024)]


@pytest.fixture(scope="module")
def firmware(calls_elf: Path) -> Firmware:
    return load_elf(calls_elf)


def readelf_symbols(path: Path) -> set[tuple[str, int, int, str]]:
    """Defined FUNC and OBJECT symbols as readelf -sW lists them (Thumb bit cleared)."""
    found = set()
    for line in run_tool("arm-none-eabi-readelf", "-sW", str(path)).splitlines():
        fields = line.split()
        if len(fields) != 8 or fields[3] not in ("FUNC", "OBJECT") or fields[6] == "UND":
            continue
        value, size = int(fields[1], 16), int(fields[2], 0)
        kind = "function" if fields[3] == "FUNC" else "object"
        found.add((fields[7], value & ~1 if kind == "function" else value, size, kind))
    return found


def objdump_rows(path: Path) -> list[tuple[int, str]]:
    """(address, mnemonic) of every line objdump -d disassembles, `.word` for data."""
    rows = []
    for line in run_tool("arm-none-eabi-objdump", "-d", str(path)).splitlines():
        match = re.match(r"\s+([0-9a-f]+):\s+[0-9a-f ]+\t(\S+)", line)
        if match:
            rows.append((int(match.group(1), 16), match.group(2)))
    return rows


def instruction_addresses(path: Path) -> list[int]:
    """Every instruction address objdump disassembles, literal-pool words left out."""
    return [address for address, mnemonic in objdump_rows(path) if not mnemonic.startswith(".")]


def addr2line(path: Path, addresses: list[int]) -> list[tuple[str, str | None, int | None]]:
    """(function, file, line) per address from addr2line -f; None where it prints ??."""
    out = run_tool("arm-none-eabi-addr2line", "-f", "-e", str(path), *map(hex, addresses))
    lines = out.splitlines()
    rows = []
    for function, location in zip(lines[0::2], lines[1::2], strict=True):
        file, _, line = location.split(" (discriminator")[0].rpartition(":")
        known = file != "??" and line not in ("0", "?")
        rows.append((function, file if known else None, int(line) if known else None))
    return rows


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path: Path) -> str:
    """The message of the ElfError that loading `path` raises."""
    with pytest.raises(ElfError) as caught:
        load_elf(path)
    message = str(caught.value)
    assert "\n" not in message
    assert path.name in message
    return message


# The image ---------------------------------------------------------------------------------


def test_segments_are_the_loadable_program_headers_at_their_load_address(firmware, calls_elf):
    raw = calls_elf.read_bytes()
    expected = []
    for line in run_tool("arm-none-eabi-readelf", "-lW", str(calls_elf)).splitlines():
        fields = line.split()
        if fields[:1] == ["LOAD"] and int(fields[4], 16) > 0:
            offset, paddr, filesz = int(fields[1], 16), int(fields[3], 16), int(fields[4], 16)
            expected.append((paddr, raw[offset:offset + filesz]))

    assert [(s.load_addr, s.data) for s in firmware.segments] == sorted(expected)


def test_code_is_executable_and_initial_data_is_writable(firmware):
    code, data = firmware.segments
    assert code.flags == PF_R | PF_X
    assert data.flags == PF_R | PF_W


def test_initial_values_of_data_sit_in_flash_after_the_code(firmware):
    code, data = firmware.segments

    assert data.load_addr == code.end
    assert struct.unpack("<II", data.data) == (7, 0x4000_0000)  # counter, bad_pointer


def test_entry_point_is_the_reset_handler_in_thumb_state(firmware):
    assert firmware.entry == firmware.symbol_address("reset_handler") | 1


def test_vector_table_gives_initial_stack_and_reset_handler(firmware):
    initial_sp, reset_pc = vector_table(firmware, 0)

    assert initial_sp == 0x2001_0000
    assert reset_pc == firmware.symbol_address("reset_handler") | 1


def test_vector_table_outside_the_image_is_refused(firmware):
    with pytest.raises(ElfError, match=r"calls\.elf: no vector table at 0x08000000"):
        vector_table(firmware, 0x0800_0000)


def test_firmware_that_fits_the_board_is_accepted(firmware):
    check_fits(firmware, BOARD)


def test_segment_outside_every_region_is_refused_with_its_range(firmware):
    code = firmware.segments[0]
    small_flash = [("flash", 0, 0x40), ("ram", 0x2000_0000, 64 * 1024)]

    with pytest.raises(ElfError) as caught:
        check_fits(firmware, small_flash)

    message = str(caught.value)
    assert message.startswith("calls.elf: ")
    assert f"segment 0x00000000-0x{code.end - 1:08x}" in message
    assert "outside every memory region" in message


def test_cortex_m3_build_has_no_fpu(firmware):
    assert firmware.cpu.name == "7-M"
    assert not firmware.cpu.has_fpu


def test_cortex_m4f_build_says_it_uses_the_fpu(calls_m4f_elf):
    cpu = load_elf(calls_m4f_elf).cpu

    assert (cpu.name, cpu.arch, cpu.fp_arch) == ("7E-M", "v7E-M", "VFPv4-D16")
    assert cpu.has_fpu and cpu.vfp_args


# Symbols and lines -------------------------------------------------------------------------


def test_symbols_are_the_functions_and_objects_readelf_lists(firmware, calls_elf):
    ours = {(s.name, s.address, s.size, s.kind) for s in firmware.symbols}

    assert ours == readelf_symbols(calls_elf)


def test_every_instruction_is_named_like_addr2line_names_it(firmware, calls_elf):
    addresses = instruction_addresses(calls_elf)
    assert len(addresses) > 40

    for address, (function, _, _) in zip(addresses, addr2line(calls_elf, addresses), strict=True):
        name, offset = firmware.symbolize(address)
        assert name == function
        assert offset == address - firmware.symbol_address(name)


def test_every_instruction_has_the_source_line_addr2line_gives(firmware, calls_elf):
    addresses = instruction_addresses(calls_elf)
    rows = addr2line(calls_elf, addresses)

    ours = [firmware.line_for(address) for address in addresses]

    assert ours == [(file, line) if file else None for _, file, line in rows]


def test_literal_pools_are_data_where_objdump_shows_words(firmware, calls_elf):
    rows = objdump_rows(calls_elf)
    assert any(mnemonic == ".word" for _, mnemonic in rows)

    for address, mnemonic in rows:
        assert firmware.is_data(address) == (mnemonic == ".word"), hex(address)


def test_assembly_function_without_size_runs_to_the_end_of_the_code(firmware):
    start = firmware.symbol_address("spin_forever")

    assert firmware.symbolize(start + 4) == ("spin_forever", 4)


def test_address_inside_a_data_object_is_named_with_its_offset(firmware):
    counter = firmware.symbol_address("counter")

    assert firmware.symbolize(counter + 2) == ("counter", 2)


def test_data_object_is_not_taken_for_a_function(firmware):
    counter = firmware.symbol_address("counter")

    assert firmware.function_at(counter) is None
    assert firmware.function_at(firmware.symbol_address("main") + 2) == ("main", 2)


def test_address_outside_the_image_has_no_name_and_no_line(firmware):
    assert firmware.symbolize(0x3000_0000) is None
    assert firmware.line_for(0x3000_0000) is None


def test_vector_table_has_no_source_line(firmware):
    assert firmware.line_for(0x4) is None


def test_unknown_symbol_name_is_refused(firmware):
    with pytest.raises(ElfError, match=r"calls\.elf: no symbol named 'nonesuch'"):
        firmware.symbol_address("nonesuch")


def test_build_without_debug_information_has_symbols_but_no_lines(calls_nodebug_elf):
    firmware = load_elf(calls_nodebug_elf)
    main = firmware.symbol_address("main")

    assert firmware.symbolize(main + 2) == ("main", 2)
    assert firmware.line_for(main) is None
    assert not firmware.has_frame_info


# Refused files -----------------------------------------------------------------------------


def test_missing_file_is_refused(tmp_path):
    assert "no such file" in refused(tmp_path / "absent.elf")


def test_directory_is_refused(tmp_path):
    folder = tmp_path / "image.elf"
    folder.mkdir()

    assert "not a regular file" in refused(folder)


def test_unreadable_file_is_refused(tmp_path, calls_elf, monkeypatch):
    path = write(tmp_path, "locked.elf", calls_elf.read_bytes())

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)  # as chmod 0 would, even for root

    assert "cannot read the file (Permission denied)" in refused(path)


def test_empty_file_is_not_an_elf(tmp_path):
    assert "not an ELF file (bad magic" in refused(write(tmp_path, "empty.elf", b""))


def test_random_bytes_are_not_an_elf(tmp_path):
    noise = random.Random(1).randbytes(4096)

    assert "not an ELF file (bad magic" in refused(write(tmp_path, "noise.bin", noise))


def test_every_truncated_copy_is_refused_as_truncated(tmp_path, calls_elf):
    raw = calls_elf.read_bytes()
    lengths = sorted({*range(4, 200), *range(200, len(raw), 97), len(raw) - 1})

    for length in lengths:
        path = write(tmp_path, f"cut{length}.elf", raw[:length])
        assert "truncated or malformed" in refused(path), length


def test_x86_64_program_is_refused_as_64_bit(tmp_path):
    host = Path("/bin/true")
    if host.read_bytes()[:4] != b"\x7fELF":
        pytest.skip("/bin/true is not an ELF file on this host")
    message = refused(write(tmp_path, "true", host.read_bytes()))

    assert "64-bit ELF for x86-64" in message


def patched(calls_elf: Path, tmp_path: Path, name: str, offset: int, data: bytes) -> Path:
    """A copy of the fixture with `data` written over the bytes at `offset`."""
    raw = bytearray(calls_elf.read_bytes())
    raw[offset:offset + len(data)] = data
    return write(tmp_path, name, bytes(raw))


def test_64_bit_header_is_refused(tmp_path, calls_elf):
    path = patched(calls_elf, tmp_path, "wide.elf", 4, b"\x02")  # EI_CLASS = ELFCLASS64

    assert "64-bit ELF for ARM" in refused(path)


def test_big_endian_arm_is_refused(tmp_path, calls_elf):
    # EI_DATA = ELFDATA2MSB, and e_machine rewritten in big-endian order to stay EM_ARM.
    raw = bytearray(calls_elf.read_bytes())
    raw[5] = 2
    raw[18:20] = struct.pack(">H", 40)
    path = write(tmp_path, "be.elf", bytes(raw))

    assert "big-endian ELF" in refused(path)


def test_elf_for_another_machine_is_refused(tmp_path, calls_elf):
    path = patched(calls_elf, tmp_path, "riscv.elf", 18, struct.pack("<H", 243))

    assert "ELF for RISC-V (EM_RISCV), not for ARM" in refused(path)


def test_elf_without_loadable_segment_is_refused(tmp_path, calls_elf):
    raw = bytearray(calls_elf.read_bytes())
    phoff, = struct.unpack_from("<I", raw, 28)
    phentsize, phnum = struct.unpack_from("<HH", raw, 42)
    for index in range(phnum):
        struct.pack_into("<I", raw, phoff + index * phentsize, 0)  # p_type = PT_NULL

    assert "no loadable segment" in refused(write(tmp_path, "noload.elf", bytes(raw)))


def test_object_file_is_refused_for_want_of_loadable_segment(tmp_path, fixtures_dir):
    if not have_compiler():
        pytest.skip("arm-none-eabi-gcc is not installed: fixture ELFs are built at test time")
    out = tmp_path / "calls.o"
    run_tool("arm-none-eabi-gcc", "-mcpu=cortex-m3", "-mthumb", "-c", "-o", str(out),
             str(fixtures_dir / "calls.c"))

    assert "no loadable segment" in refused(out)


def test_segment_reaching_past_the_end_of_file_is_refused(tmp_path, calls_elf):
    raw = calls_elf.read_bytes()
    phoff, = struct.unpack_from("<I", raw, 28)
    path = patched(calls_elf, tmp_path, "far.elf", phoff + 4, struct.pack("<I", len(raw)))

    assert "truncated or malformed (segment at 0x00000000 ends past the file)" in refused(path)


def test_corrupted_bytes_never_raise_anything_but_elf_error(tmp_path, calls_elf):
    raw = calls_elf.read_bytes()
    rng = random.Random(20240601)

    for trial in range(300):
        damaged = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(raw))] = rng.randrange(256)
        path = write(tmp_path, f"damaged{trial}.elf", bytes(damaged))
        try:
            firmware = load_elf(path)
            firmware.line_for(firmware.entry & ~1)
            firmware.frame_row(firmware.entry & ~1)
        except ElfError as error:
            assert path.name in str(error)
