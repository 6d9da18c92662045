"""`ota-emu bench` runs every configuration on the same images and prints the ratios.

No timing is asserted here: the figures are for the closing note, not for a test verdict.
"""

import pytest

from emu.bench import bench

from core_helpers import image


@pytest.mark.slow
def test_bench_compares_configurations_on_the_same_images():
    image("m4f", "bench_cpu")
    lines = bench("m4f", repeat=1)
    table = "\n".join(lines)
    for label in ("raw unicorn, CPU-bound", "ota-emu, CPU-bound", "ota-emu, RTOS time-sliced"):
        assert label in table
    counts = {line.split()[-3] for line in lines[1:4] if "CPU-bound" in line}
    assert len(counts) == 1  # every CPU-bound figure counts the same instructions
    assert any(line.startswith("ota-emu / raw unicorn") for line in lines)
