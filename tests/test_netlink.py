"""The network link module driven through its registers, one behaviour per test.

Most tests use a small fake machine (a 1 MHz virtual clock, so 1,000 cycles are a millisecond,
interrupt lines, guest-error log and two memories) with the cloud model's MessageBus and a
BusLink attached. The last tests build the C driver and run it on the real machine.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from emu.board import Memory, parse_board
from emu.cloud.mqtt import BusLink, MessageBus
from emu.errors import BoardError
from emu.periph import netlink as nl
from emu.periph.base import PERIPHERAL_TYPES
from emu.periph.netlink import NetLink

import fake_machine
from fixtures.build import COMPILER, build_elf, have_compiler

ROOT = Path(__file__).resolve().parent.parent
DRIVERS = ROOT / "firmware_images" / "drivers"
FLASH, RAM, RAM_SIZE = 0x0000_0000, 0x2000_0000, 0x1_0000
MS = 1000  # cycles per millisecond of the fake machine

OFF = {r.mnemonic: r.offset for r in NetLink.REGISTERS}


MEMORIES = [Memory("flash", "flash", FLASH, RAM_SIZE), Memory("sram", "ram", RAM, RAM_SIZE)]


class FakeMachine(fake_machine.FakeMachine):
    def __init__(self) -> None:
        super().__init__(MEMORIES)


class Rig(fake_machine.DeviceRig):
    """The module on a fake machine, a bus and a link, with register shorthands."""

    def __init__(self, **params) -> None:
        machine = FakeMachine()
        super().__init__(machine, NetLink(machine, "net0", 0x4000_8000, irq=7, **params), RAM)
        self.bus = MessageBus()
        self.link = BusLink(self.bus, "device")
        self.dev.attach(self.link)

    def buffer(self, which: str, data: bytes) -> None:
        self.wr(f"{which}_ADDR", self.put(data))
        self.wr(f"{which}_LEN", len(data))

    def command(self, op: int, settle: bool = True) -> int:
        """Write CMD; with ``settle`` wait until not BUSY. Returns ERR."""
        self.wr("CMD", op)
        while settle and self.rd("STATUS") & nl.BUSY:
            self.machine.advance(100)
        return self.rd("ERR")

    def connect(self, client_id: bytes = b"thing-1") -> int:
        self.buffer("CLIENT", client_id)
        return self.command(nl.CONNECT)

    def subscribe(self, topic: bytes, qos: int = 1) -> int:
        self.buffer("TOPIC", topic)
        self.wr("QOS", qos)
        return self.command(nl.SUBSCRIBE)

    def publish(self, topic: bytes, payload: bytes, qos: int = 0, settle: bool = True) -> int:
        self.buffer("TOPIC", topic)
        self.buffer("PAYLOAD", payload)
        self.wr("QOS", qos)
        return self.command(nl.PUBLISH, settle)

    def receive(self, topic_room: int = 64, payload_room: int = 256) -> tuple[int, bytes, bytes]:
        """RECV into fresh buffers; returns ERR and the buffers' contents."""
        topic_addr, payload_addr = self.put(bytes(topic_room)), self.put(bytes(payload_room))
        self.wr("TOPIC_ADDR", topic_addr)
        self.wr("TOPIC_LEN", topic_room)
        self.wr("PAYLOAD_ADDR", payload_addr)
        self.wr("PAYLOAD_LEN", payload_room)
        err = self.command(nl.RECV)
        return (err, self.machine.mem_read(topic_addr, self.rd("RX_TOPIC_LEN")),
                self.machine.mem_read(payload_addr, self.rd("RX_PAYLOAD_LEN")))


@pytest.fixture
def rig() -> Rig:
    return Rig()


@pytest.fixture
def online(rig: Rig) -> Rig:
    assert rig.connect() == nl.ERR_NONE
    rig.machine.irqs.clear()
    return rig


# -- identity and reset -------------------------------------------------------------------------

def test_model_is_registered_for_board_files():
    assert PERIPHERAL_TYPES["netlink"] is NetLink


def test_registers_start_at_their_documented_reset_values(rig):
    assert rig.rd("ID") == 0x4E4C_4B31
    assert rig.rd("STATUS") == 0
    assert rig.rd("ERR") == 0
    assert rig.rd("MAX_TOPIC") == 256
    assert rig.rd("MAX_PAYLOAD") == 128 * 1024
    assert rig.rd("RX_DEPTH") == 8


def test_ms_register_counts_whole_virtual_milliseconds(rig):
    rig.machine.advance(1234 * MS + 999)
    assert rig.rd("MS") == 1234


# -- connecting ---------------------------------------------------------------------------------

def test_connect_without_a_link_fails_with_no_network(rig):
    rig.dev.attach(None)
    assert rig.connect() == nl.ERR_NO_NETWORK
    assert rig.rd("STATUS") & (nl.DONE | nl.ERROR | nl.CONNECTED) == nl.DONE | nl.ERROR


def test_connect_is_busy_for_its_latency_then_connected(rig):
    rig.buffer("CLIENT", b"thing-1")
    rig.command(nl.CONNECT, settle=False)
    rig.machine.advance(50 * MS - 1)
    assert rig.rd("STATUS") & nl.BUSY
    assert not rig.link.connected
    rig.machine.advance(1)
    assert rig.rd("STATUS") & (nl.BUSY | nl.CONNECTED | nl.DONE) == nl.CONNECTED | nl.DONE
    assert rig.link.connected
    assert rig.dev.client_id == "thing-1"


def test_done_interrupt_is_raised_only_when_enabled(rig):
    rig.connect()
    assert rig.machine.irqs == []
    rig.wr("INTEN", nl.IE_DONE)
    rig.command(nl.DISCONNECT)
    assert rig.machine.irqs == [7]


def test_board_latency_overrides_the_default(rig):
    fast = Rig(latency_ms={"connect": 3})
    fast.buffer("CLIENT", b"x")
    fast.command(nl.CONNECT, settle=False)
    fast.machine.advance(3 * MS)
    assert fast.rd("STATUS") & nl.CONNECTED


def test_latency_for_an_unknown_command_is_a_board_error():
    with pytest.raises(BoardError, match="no command 'conect'"):
        NetLink(FakeMachine(), "net0", 0x4000_8000, latency_ms={"conect": 3})


def test_unknown_parameter_is_a_board_error():
    with pytest.raises(BoardError, match="rx_dept"):
        NetLink(FakeMachine(), "net0", 0x4000_8000, rx_dept=3)


def test_fail_next_connects_refuses_that_many_then_accepts(rig):
    rig.dev.fail_next_connects(2)
    assert rig.connect() == nl.ERR_REFUSED
    assert rig.connect() == nl.ERR_REFUSED
    assert rig.connect() == nl.ERR_NONE
    assert rig.rd("STATUS") & nl.CONNECTED


def test_broker_outage_is_reported_as_refused(rig):
    rig.link.refuse_connections = True
    assert rig.connect() == nl.ERR_REFUSED
    assert not rig.rd("STATUS") & nl.CONNECTED


def test_client_id_longer_than_128_bytes_is_refused_at_once(rig):
    rig.buffer("CLIENT", b"c" * 129)
    rig.command(nl.CONNECT, settle=False)
    assert rig.rd("STATUS") & (nl.BUSY | nl.ERROR) == nl.ERROR
    assert rig.rd("ERR") == nl.ERR_TOO_LONG


def test_empty_client_id_is_a_bad_argument(rig):
    assert rig.connect(b"") == nl.ERR_BAD_ARGUMENT


# -- subscribing and receiving ------------------------------------------------------------------

def test_subscribe_before_connect_is_refused_at_once_with_not_connected(rig):
    rig.buffer("TOPIC", b"a/b")
    rig.command(nl.SUBSCRIBE, settle=False)
    assert rig.rd("STATUS") & (nl.BUSY | nl.DONE | nl.ERROR) == nl.DONE | nl.ERROR
    assert rig.rd("ERR") == nl.ERR_NOT_CONNECTED


def test_cloud_publish_reaches_the_firmware_through_the_rx_registers(online):
    assert online.subscribe(b"$aws/things/thing-1/jobs/notify-next") == nl.ERR_NONE
    online.bus.publish("$aws/things/thing-1/jobs/notify-next", b'{"execution":{}}', qos=1)
    assert not online.rd("STATUS") & nl.RX_READY
    online.machine.advance(1 * MS)
    assert online.rd("STATUS") & nl.RX_READY
    assert online.rd("RX_COUNT") == 1
    assert online.rd("RX_QOS") == 1
    err, topic, payload = online.receive()
    assert err == nl.ERR_NONE
    assert topic == b"$aws/things/thing-1/jobs/notify-next"
    assert payload == b'{"execution":{}}'
    assert online.command(nl.RECV_ACK) == nl.ERR_NONE
    assert not online.rd("STATUS") & nl.RX_READY
    assert online.rd("RX_TOPIC_LEN") == 0


def test_messages_are_read_in_arrival_order(online):
    online.subscribe(b"t/#")
    for i in range(3):
        online.bus.publish(f"t/{i}", bytes([i]))
    online.machine.advance(1 * MS)
    got = []
    while online.rd("STATUS") & nl.RX_READY:
        got.append(online.receive()[1])
        online.command(nl.RECV_ACK)
    assert got == [b"t/0", b"t/1", b"t/2"]


def test_rx_interrupt_is_raised_when_a_message_arrives(online):
    online.subscribe(b"t")
    online.wr("INTEN", nl.IE_RX)
    online.bus.publish("t", b"x")
    online.machine.advance(1 * MS)
    assert online.machine.irqs == [7]


def test_pump_takes_messages_without_waiting_for_a_poll(online):
    online.subscribe(b"t")
    online.bus.publish("t", b"x")
    online.dev.pump()
    assert online.rd("STATUS") & nl.RX_READY


def test_full_queue_drops_messages_counts_them_and_sets_overflow():
    rig = Rig(rx_depth=2)
    rig.connect()
    rig.subscribe(b"t")
    for i in range(5):
        rig.bus.publish("t", bytes([i]))
    rig.machine.advance(1 * MS)
    assert rig.rd("RX_COUNT") == 2
    assert rig.rd("RX_DROPPED") == 3
    assert rig.rd("STATUS") & nl.RX_OVERFLOW
    rig.wr("STATUS", nl.RX_OVERFLOW)
    assert not rig.rd("STATUS") & nl.RX_OVERFLOW
    assert rig.receive()[2] == b"\x00"


def test_recv_into_too_small_a_buffer_is_too_long_and_keeps_the_message(online):
    online.subscribe(b"t")
    online.bus.publish("t", b"0123456789")
    online.machine.advance(1 * MS)
    err, _, _ = online.receive(payload_room=9)
    assert err == nl.ERR_TOO_LONG
    assert online.rd("RX_COUNT") == 1
    assert online.receive(payload_room=10)[2] == b"0123456789"


def test_recv_with_an_empty_queue_is_no_message(online):
    assert online.receive()[0] == nl.ERR_NO_MESSAGE
    assert online.command(nl.RECV_ACK) == nl.ERR_NO_MESSAGE


def test_recv_into_flash_is_refused_as_bad_address(online):
    online.subscribe(b"t")
    online.bus.publish("t", b"abc")
    online.machine.advance(1 * MS)
    online.wr("TOPIC_ADDR", FLASH + 0x100)
    online.wr("TOPIC_LEN", 16)
    online.wr("PAYLOAD_ADDR", RAM)
    online.wr("PAYLOAD_LEN", 16)
    assert online.command(nl.RECV) == nl.ERR_BAD_ADDRESS
    assert online.machine.mem_read(FLASH + 0x100, 1) == b"\x00"


def test_invalid_topic_filter_is_rejected_by_the_broker(online):
    assert online.subscribe(b"a/#/b") == nl.ERR_REJECTED


def test_unsubscribe_stops_delivery(online):
    online.subscribe(b"t")
    online.buffer("TOPIC", b"t")
    assert online.command(nl.UNSUBSCRIBE) == nl.ERR_NONE
    online.bus.publish("t", b"x")
    online.machine.advance(2 * MS)
    assert online.rd("RX_COUNT") == 0


# -- publishing ---------------------------------------------------------------------------------

def test_device_publish_appears_on_the_bus_after_the_publish_latency(online):
    seen = []
    online.bus.subscribe("$aws/things/thing-1/jobs/$next/get", seen.append, qos=1)
    online.publish(b"$aws/things/thing-1/jobs/$next/get", b'{"clientToken":"1"}', 1, False)
    online.machine.advance(2 * MS - 1)
    assert seen == []
    online.machine.advance(1)
    assert [(m.topic, m.payload, m.qos) for m in seen] == [
        ("$aws/things/thing-1/jobs/$next/get", b'{"clientToken":"1"}', 1)]
    assert online.rd("ERR") == nl.ERR_NONE


def test_set_latency_changes_the_busy_time_of_later_commands(online):
    online.dev.set_latency("publish", 10)
    online.publish(b"t", b"x", settle=False)
    online.machine.advance(10 * MS - 1)
    assert online.rd("STATUS") & nl.BUSY
    online.machine.advance(1)
    assert not online.rd("STATUS") & nl.BUSY


def test_empty_payload_is_published(online):
    seen = []
    online.bus.subscribe("t", seen.append)
    assert online.publish(b"t", b"") == nl.ERR_NONE
    assert seen[0].payload == b""


def test_topic_over_256_bytes_is_too_long(online):
    assert online.publish(b"t" * 257, b"x") == nl.ERR_TOO_LONG


def test_qos_3_is_a_bad_argument(online):
    assert online.publish(b"t", b"x", qos=3) == nl.ERR_BAD_ARGUMENT


def test_topic_that_is_not_utf8_is_a_bad_argument(online):
    assert online.publish(b"t/\xff", b"x") == nl.ERR_BAD_ARGUMENT


def test_wildcard_in_a_published_topic_is_rejected(online):
    assert online.publish(b"t/+", b"x") == nl.ERR_REJECTED


def test_payload_outside_memory_is_bad_address(online):
    online.buffer("TOPIC", b"t")
    online.wr("PAYLOAD_ADDR", 0x6000_0000)
    online.wr("PAYLOAD_LEN", 4)
    assert online.command(nl.PUBLISH) == nl.ERR_BAD_ADDRESS


def test_command_written_while_busy_is_ignored_and_logged(online):
    online.publish(b"t", b"x", settle=False)
    online.wr("CMD", nl.DISCONNECT)
    assert online.machine.guest_errors == ["CMD written while BUSY; ignored"]
    online.machine.advance(2 * MS)
    assert online.rd("STATUS") & nl.CONNECTED


def test_unknown_command_is_bad_command(rig):
    assert rig.command(0xF) == nl.ERR_BAD_COMMAND


# -- losing the connection ----------------------------------------------------------------------

def test_dropped_connection_clears_connected_and_raises_the_link_interrupt(online):
    online.wr("INTEN", nl.IE_LINK)
    online.dev.drop_connection()
    status = online.rd("STATUS")
    assert not status & nl.CONNECTED
    assert status & (nl.LINK_LOST | nl.ERROR) == nl.LINK_LOST | nl.ERROR
    assert online.rd("ERR") == nl.ERR_LINK_LOST
    assert online.machine.irqs == [7]
    assert not online.link.connected


def test_link_cut_on_the_cloud_side_is_noticed_at_the_next_poll(online):
    online.link.cut()
    assert online.rd("STATUS") & nl.CONNECTED
    online.machine.advance(1 * MS)
    assert online.rd("STATUS") & (nl.CONNECTED | nl.LINK_LOST) == nl.LINK_LOST


def test_publish_in_flight_when_the_link_drops_fails(online):
    online.publish(b"t", b"x", settle=False)
    online.dev.drop_connection()
    online.machine.advance(2 * MS)
    assert online.rd("ERR") == nl.ERR_NOT_CONNECTED


def test_reconnect_after_a_drop_clears_link_lost(online):
    online.dev.drop_connection()
    assert online.connect() == nl.ERR_NONE
    assert online.rd("STATUS") & (nl.CONNECTED | nl.LINK_LOST) == nl.CONNECTED


def test_disconnect_ends_the_session_and_its_subscriptions(online):
    online.subscribe(b"t")
    assert online.command(nl.DISCONNECT) == nl.ERR_NONE
    assert not online.link.connected
    assert online.bus.subscriptions() == []
    assert not online.rd("STATUS") & nl.LINK_LOST


def test_reset_closes_the_connection_and_empties_the_queue(online):
    online.subscribe(b"t")
    online.bus.publish("t", b"x")
    online.machine.advance(1 * MS)
    online.dev.reset()
    assert online.rd("STATUS") == 0
    assert online.rd("RX_COUNT") == 0
    assert not online.link.connected


def test_snapshot_and_restore_keep_the_queue(online):
    online.subscribe(b"t")
    online.bus.publish("t", b"x")
    online.machine.advance(1 * MS)
    state = online.dev.snapshot()
    online.command(nl.RECV_ACK)
    online.dev.restore(state)
    assert online.receive()[2] == b"x"


# -- the C driver -------------------------------------------------------------------------------

DRIVER_FLAGS = ("-mcpu=cortex-m3", "-mthumb", "-O2", "-Wall", "-Wextra", "-Werror", "-c")


def _need_compiler() -> None:
    if not have_compiler():
        pytest.skip("arm-none-eabi-gcc is not installed")


@pytest.mark.parametrize("source", ["netlink.c", "crypto.c"])
def test_driver_compiles_without_warnings_or_library_calls(source, tmp_path):
    _need_compiler()
    obj = tmp_path / "driver.o"
    done = subprocess.run([COMPILER, *DRIVER_FLAGS, str(DRIVERS / source), "-o", str(obj)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    undefined = subprocess.run(["arm-none-eabi-nm", "-u", str(obj)], capture_output=True,
                               text=True, check=True).stdout
    assert undefined == ""


NETLINK_BASE = 0x4000_8000

SEMIHOST_EXIT = r"""
static void finish(unsigned code)
{
    unsigned block[2] = {0x20026u, code};
    register unsigned r0 __asm__("r0") = 0x20u;
    register unsigned *r1 __asm__("r1") = block;

    __asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
}
"""

ECHO_MAIN = SEMIHOST_EXIT + r"""
#include "netlink.h"

static char topic[64];
static unsigned char payload[64];

int main(void)
{
    size_t tlen, plen;
    net_status_t st;

    if (net_init(0x40008000u, 0) != NET_OK) finish(1);
    if (net_connect("thing-1", 100) != NET_ERR_NO_NETWORK) finish(2);
    while (net_connect("thing-1", 1000) != NET_OK) continue;
    if (net_subscribe("cmd/#", 1) != NET_OK) finish(3);
    if (net_publish("hello", "ping", 4, 1) != NET_OK) finish(4);
    do {
        st = net_receive(topic, sizeof topic, payload, sizeof payload,
                         &tlen, &plen);
    } while (st == NET_ERR_NO_MESSAGE);
    if (st != NET_OK || tlen != 5 || topic[5] != '\0') finish(5);
    if (net_publish(topic, payload, plen, 0) != NET_OK) finish(6);
    if (net_disconnect() != NET_OK || net_is_connected()) finish(7);
    finish(0);
    return 0;
}
"""


def _machine_with_netlink(elf: Path):
    from emu.core.machine import Machine
    from emu.elf import load_elf

    board = parse_board({
        "name": "netlink-test", "cpu": "cortex-m3", "clock_hz": 25_000_000,
        "memory": [{"name": "flash", "kind": "flash", "base": 0, "size": 0x4_0000},
                   {"name": "sram", "kind": "ram", "base": RAM, "size": RAM_SIZE}],
        "peripheral": [{"name": "net0", "type": "netlink", "base": NETLINK_BASE, "irq": 5}],
    })
    machine = Machine(board)
    machine.load(load_elf(elf))
    machine.reset()
    return machine


def test_c_driver_talks_to_the_cloud_through_the_module(tmp_path):
    _need_compiler()
    main = tmp_path / "main.c"
    main.write_text(ECHO_MAIN)
    elf = build_elf(tmp_path, "echo", ["vectors.c", str(main), str(DRIVERS / "netlink.c")],
                    extra=("-I", str(DRIVERS)))
    machine = _machine_with_netlink(elf)
    dev = machine.peripherals["net0"]
    bus = MessageBus()
    bus.subscribe("hello", lambda m: bus.publish("cmd/x", b"pong:" + m.payload, qos=1))

    # The first CONNECT finds no network; the link is plugged in once it has failed.
    assert machine.run(max_seconds=0.06).status == "time"
    dev.attach(BusLink(bus, "thing-1"))
    result = machine.run(max_seconds=2)

    assert (result.status, result.exit_code) == ("exit", 0), result.message
    assert [(m.topic, m.payload) for m in bus.log] == [
        ("hello", b"ping"), ("cmd/x", b"pong:ping"), ("cmd/x", b"pong:ping")]
    assert 0.1 < result.seconds < 0.2
