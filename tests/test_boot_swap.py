"""Power cuts at every flash operation of a swap: the next boot resumes and finishes it.

This is MCUboot's simulator method (count the operations of a clean swap, then cut the power
at each one in turn and check the slots after the next boot), with cuts *during* an
operation as well as before it. After every cut the slots must hold what a swap without cut
leaves: for a cut before an operation, the very same bytes in both slots and the scratch
area; for a cut during one, the same images and trailers that decode the same, except that a
trailer flag whose own write was torn reads "bad" (docs/boot.md, "Power cuts").
"""

import functools
from dataclasses import dataclass

import pytest

from emu.board import load_board
from emu.boot import attach_boot, slot_image, slot_map, write_slot
from emu.boot.area import FlashArea
from emu.boot.decision import copy_done, swap_type
from emu.boot.swap import read_status
from emu.core.machine import Machine
from emu.image.keys import generate_key
from emu.image.trailer import Flag, Magic, SwapType

from fixtures.boot import SMALL_BOARD, body, power_on

SEED = 20240607
KEY = generate_key()


@dataclass(frozen=True)
class Scenario:
    """Slots to start from; ``before_sweep`` boots without cuts first (a revert needs a
    finished test swap)."""

    board: str
    old_size: int
    new_size: int
    confirm: bool = False
    before_sweep: int = 0


SCENARIOS = {
    "test swap, one region": Scenario("ref-m4f", 900, 1500),
    "revert, one region": Scenario("ref-m4f", 900, 1500, before_sweep=1),
    "permanent swap, one region": Scenario("ref-m4f", 900, 1500, confirm=True),
    "test swap, three regions": Scenario(str(SMALL_BOARD), 0x1000, 0x4400),
    "test swap, the trailer moves through scratch": Scenario(str(SMALL_BOARD), 0x1800, 0x5C00),
}


@functools.cache
def images(scenario: Scenario) -> tuple[bytes, bytes]:
    """The old and the new image, signed once (ECDSA signatures differ at each signing)."""
    slots = slot_map(load_board(scenario.board))
    old = slot_image(body(slots, scenario.old_size, 1), KEY, "1.0.0", slots, confirm=True)
    new = slot_image(body(slots, scenario.new_size, 2), KEY, "1.1.0", slots,
                     confirm=scenario.confirm)
    return old, new


def machine_for(scenario: Scenario) -> Machine:
    """A machine with the old image confirmed in the primary slot and the new one pending,
    booted ``before_sweep`` times."""
    machine = Machine(load_board(scenario.board))
    model = attach_boot(machine, trusted_key=KEY)
    old, new = images(scenario)
    write_slot(machine, model.slots, "primary", old)
    write_slot(machine, model.slots, "secondary", new)
    for _ in range(scenario.before_sweep):
        machine.reset("software")
    return machine


@dataclass
class Outcome:
    """What a boot left: the areas' bytes, the decoded trailers and the booted version."""

    areas: dict[str, bytes]
    trailers: dict[str, object]
    steps: int
    version: str
    next_swap: object
    log: list[str]


def outcome(machine: Machine) -> Outcome:
    model = machine.reset_hooks[-1]
    areas = {a.name: a for a in (model.primary, model.secondary, model.scratch)}
    return Outcome(
        areas={name: area.read(0, area.size) for name, area in areas.items()},
        trailers={name: areas[name].trailer() for name in ("primary", "secondary")},
        steps=_steps(model.primary),
        version=str(model.booted.version) if model.booted else "none",
        next_swap=swap_type(model.primary.trailer(), model.secondary.trailer()),
        log=list(model.lines),
    )


def _steps(primary: FlashArea) -> int:
    """Written status entries of the primary trailer."""
    align = primary.layout.align
    raw = primary.read(primary.layout.status_off, primary.status_entries * align)
    return sum(raw[i * align] != 0xFF for i in range(primary.status_entries))


def clean_run(scenario: Scenario) -> tuple[Outcome, int, int]:
    """The outcome of the swap without cuts, the operation count before it and after it."""
    machine = machine_for(scenario)
    array = machine.flash["flash"]
    first = array.op_count
    power_on(machine)
    return outcome(machine), first, array.op_count


def cut_run(scenario: Scenario, index: int, when: str) -> tuple[Outcome, object]:
    machine = machine_for(scenario)
    machine.cut_power_at(index, when, SEED)
    assert power_on(machine) == 1
    return outcome(machine), machine.flash["flash"].log[index]


def differences(clean: Outcome, got: Outcome, when: str, op, slots) -> list[str]:
    """What differs from the clean outcome beyond what a torn write of ``op`` may leave."""
    wrong = []
    if got.version != clean.version:
        wrong.append(f"booted {got.version}, not {clean.version}")
    if when == "before":
        wrong += [f"{name} differs" for name in clean.areas
                  if got.areas[name] != clean.areas[name]]
        return wrong
    status_off = slots.slot_trailer().status_off
    for name in ("primary", "secondary"):
        if got.areas[name][:status_off] != clean.areas[name][:status_off]:
            wrong.append(f"{name} image differs")
    if got.areas["secondary"][status_off:] != clean.areas["secondary"][status_off:]:
        wrong.append("secondary trailer differs")
    wrong += _trailer_differences(clean, got, op, slots)
    return wrong


def _trailer_differences(clean: Outcome, got: Outcome, op, slots) -> list[str]:
    want, have = clean.trailers["primary"], got.trailers["primary"]
    layout = slots.slot_trailer()
    torn = op.address - slots.address(slots.primary)
    wrong = []
    if (have.magic, have.swap_type, have.swap_size) != (want.magic, want.swap_type,
                                                        want.swap_size):
        wrong.append(f"primary trailer {have} is not {want}")
    if have.image_ok is not want.image_ok and not (
            have.image_ok is Flag.BAD and torn == layout.image_ok_off):
        wrong.append(f"image_ok {have.image_ok}")
    if copy_done(have) is not Flag.SET or (
            have.copy_done is Flag.BAD and torn != layout.copy_done_off):
        wrong.append(f"copy_done {have.copy_done}")
    if got.steps != clean.steps:
        wrong.append(f"{got.steps} status entries, not {clean.steps}")
    if got.next_swap is not clean.next_swap:
        wrong.append(f"the next boot would {got.next_swap}, not {clean.next_swap}")
    return wrong


def reverted_run(scenario: Scenario) -> Outcome:
    """The outcome of a clean swap followed by a reset before any confirmation."""
    machine = machine_for(scenario)
    power_on(machine)
    machine.reset("software")
    return outcome(machine)


def tears_copy_done(op, slots) -> bool:
    offset = slots.slot_trailer().copy_done_off
    return op.kind == "program" and op.address == slots.address(slots.primary) + offset


@pytest.mark.parametrize("when", ["before", "during"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_cut_at_any_operation_of_a_swap_is_resumed_to_the_same_end(name, when):
    scenario = SCENARIOS[name]
    clean, first, last = clean_run(scenario)
    slots = slot_map(load_board(scenario.board))
    assert last - first > 10
    failures = []
    for index in range(first, last):
        got, op = cut_run(scenario, index, when)
        reference, mode = clean, when
        if when == "during" and tears_copy_done(op, slots) and (
                clean.next_swap is SwapType.REVERT):
            # The test swap is over but not marked so: the power-on that follows is a reset
            # of an unconfirmed test image, which reverts (docs/boot.md, "Power cuts").
            reference, mode = reverted_run(scenario), "before"
        failures += [f"cut {when} op {index} ({op.kind} at {op.address:#x}): {problem}"
                     for problem in differences(reference, got, mode, op, slots)]
    assert failures == []


def test_the_clean_swaps_leave_the_trailers_mcuboot_leaves():
    clean, _, _ = clean_run(SCENARIOS["test swap, one region"])
    primary, secondary = clean.trailers["primary"], clean.trailers["secondary"]
    assert (primary.magic, primary.image_ok, primary.copy_done) == (
        Magic.GOOD, Flag.UNSET, Flag.SET)
    assert secondary.magic is Magic.UNSET and clean.steps == 3
    assert clean.areas["secondary"][-0x2000:] == b"\xff" * 0x2000


def test_a_three_region_swap_records_nine_steps():
    clean, _, _ = clean_run(SCENARIOS["test swap, three regions"])
    announced = next(line for line in clean.log if line.startswith("swap: "))
    assert clean.steps == 9 and announced.endswith(" bytes in 3 region(s) through scratch")


def test_a_cut_swap_says_it_resumes_and_how_far_it_was():
    scenario = SCENARIOS["test swap, three regions"]
    _, first, last = clean_run(scenario)
    got, _ = cut_run(scenario, (first + last) // 2, "before")
    resumed = [line for line in got.log if line.startswith("resuming an interrupted test swap")]
    assert len(resumed) == 1 and "of 9 steps done (status in primary)" in resumed[0]


def test_the_trailer_moving_swap_keeps_its_status_in_scratch_while_it_moves():
    scenario = SCENARIOS["test swap, the trailer moves through scratch"]
    machine = machine_for(scenario)
    model = machine.reset_hooks[-1]
    regions = model.swap.regions(0x5C00 + 0x200 + 200)
    assert regions[0].use_scratch and not any(r.use_scratch for r in regions[1:])
    first = machine.flash["flash"].op_count
    seen = []

    def watch(op):
        status = read_status(model.primary, model.scratch)
        seen.append(status.source)

    machine.flash["flash"].add_listener(watch)
    power_on(machine)
    assert machine.flash["flash"].op_count > first and "scratch" in seen
