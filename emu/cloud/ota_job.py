"""OTA update jobs as AWS IoT OTA makes them, and the service that ties Jobs and streams.

AWS IoT's CreateOTAUpdate makes a stream holding the image and a job named ``AFR_OTA-<id>``
whose document the FreeRTOS OTA agent parses (ota.c, its job-document model table)::

    {"afr_ota": {"protocols": ["MQTT"], "streamname": "<stream id>",
                 "files": [{"filepath": "...", "filesize": 1234, "fileid": 0,
                            "certfile": "...", "sig-sha256-ecdsa": "<base64>"}]}}

The agent requires ``protocols``, ``files``, ``filesize`` and ``fileid``; the rest is
optional to it, and the signature's key is whatever name the platform's PAL declares. Negative
tests leave fields out or change them with :class:`DocumentFaults`.

Not modelled: HTTP delivery (``update_data_url``, ``auth_scheme``; pass them as extra fields
when a test needs the document shape), code-signing profiles (the caller brings the
signature), rollouts to thing groups, and the OTA update's own status resource.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from emu.cloud.errors import CloudError
from emu.cloud.jobs import ManualClock, StatusUpdate, ThingJobs
from emu.cloud.mqtt import MessageBus
from emu.cloud.streams import StreamService

SIG_SHA256_ECDSA = "sig-sha256-ecdsa"
SIG_SHA256_RSA = "sig-sha256-rsa"
JOB_PREFIX = "AFR_OTA-"


@dataclass(frozen=True)
class OtaFile:
    """One file of an OTA update: the bytes streamed and what the job document says."""

    data: bytes
    signature: bytes
    filepath: str = "firmware.bin"
    file_id: int = 0
    certfile: str = "code_signer_cert.pem"
    sig_key: str = SIG_SHA256_ECDSA
    file_type: int | None = None
    attr: int | None = None


@dataclass(frozen=True)
class DocumentFaults:
    """Deliberate defects of a job document: keys to drop and keys to set or replace, in the
    file entry and in the ``afr_ota`` object."""

    file_omit: tuple[str, ...] = ()
    file_extra: dict[str, Any] = field(default_factory=dict)
    doc_omit: tuple[str, ...] = ()
    doc_extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OtaUpdate:
    """What :meth:`OtaService.create_ota_update` made."""

    update_id: str
    thing: str
    job_id: str
    stream_id: str
    document: dict[str, Any]
    version: str | None = None


def file_entry(ota_file: OtaFile, omit: Iterable[str] = (),
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``files`` entry of a job document for one file."""
    entry: dict[str, Any] = {"filepath": ota_file.filepath, "filesize": len(ota_file.data),
                             "fileid": ota_file.file_id, "certfile": ota_file.certfile}
    if ota_file.attr is not None:
        entry["attr"] = ota_file.attr
    if ota_file.file_type is not None:
        entry["fileType"] = ota_file.file_type
    entry[ota_file.sig_key] = base64.b64encode(ota_file.signature).decode("ascii")
    return _edit(entry, omit, extra, "file entry")


def job_document(stream_id: str, entries: list[dict[str, Any]],
                 protocols: Iterable[str] = ("MQTT",), omit: Iterable[str] = (),
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A whole OTA job document around ready-made file entries."""
    ota = {"protocols": list(protocols), "streamname": stream_id, "files": entries}
    return {"afr_ota": _edit(ota, omit, extra, "afr_ota object")}


def _edit(obj: dict[str, Any], omit: Iterable[str], extra: dict[str, Any] | None,
          what: str) -> dict[str, Any]:
    """Drop and set keys; dropping a key that is not there is a mistake in the test."""
    for key in omit:
        if key not in obj:
            raise CloudError(f"cannot omit {key!r}: the {what} has no such key")
        del obj[key]
    obj.update(extra or {})
    return obj


class OtaService:
    """AWS IoT Jobs for any number of things plus the stream service, on one bus, with the
    log of status updates that scenario verdicts read."""

    def __init__(self, bus: MessageBus, clock: Callable[[], int] | None = None) -> None:
        self.bus = bus
        self.clock = clock or ManualClock()
        self.streams = StreamService(bus)
        self.status_log: list[StatusUpdate] = []
        self.updates: dict[str, OtaUpdate] = {}
        self._things: dict[str, ThingJobs] = {}

    def jobs(self, thing: str) -> ThingJobs:
        """The Jobs model of ``thing``, made on first use."""
        if thing not in self._things:
            self._things[thing] = ThingJobs(self.bus, thing, self.clock,
                                            on_update=self.status_log.append)
        return self._things[thing]

    def create_ota_update(self, thing: str, image: bytes, signature: bytes, *,
                          version: str | None = None, update_id: str | None = None,
                          protocols: Iterable[str] = ("MQTT",),
                          faults: DocumentFaults | None = None,
                          **file_options: Any) -> OtaUpdate:
        """Make the stream and the job of an OTA update of ``image`` for ``thing``.

        ``file_options`` are :class:`OtaFile` fields (``filepath``, ``file_id``, ``certfile``,
        ``sig_key``, ``file_type``, ``attr``); ``version`` is kept for verdicts only.
        """
        update_id = update_id or f"update-{len(self.updates) + 1}"
        job_id = JOB_PREFIX + update_id
        stream_id = f"{JOB_PREFIX}{update_id}-stream"
        if job_id in self.updates:
            raise CloudError(f"OTA update {update_id} already exists")
        try:
            ota_file = OtaFile(bytes(image), bytes(signature), **file_options)
        except TypeError as err:
            raise CloudError(f"bad OTA file option: {err}") from None
        faults = faults or DocumentFaults()
        entry = file_entry(ota_file, faults.file_omit, faults.file_extra)
        document = job_document(stream_id, [entry], protocols, faults.doc_omit,
                                faults.doc_extra)
        self.streams.add_stream(stream_id, {ota_file.file_id: ota_file.data})
        self.jobs(thing).add_job(job_id, document)
        update = OtaUpdate(update_id, thing, job_id, stream_id, document, version)
        self.updates[job_id] = update
        return update

    def status_updates(self, job_id: str) -> list[StatusUpdate]:
        """Every update request the device sent for ``job_id``, accepted or not."""
        return [u for u in self.status_log if u.job_id == job_id]

    def final_status(self, job_id: str) -> str:
        """The execution status of an OTA job now."""
        update = self.updates.get(job_id)
        if update is None:
            raise CloudError(f"no OTA update with job {job_id}")
        return self.jobs(update.thing).execution(job_id).status
