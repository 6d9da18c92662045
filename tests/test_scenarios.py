"""The OTA qualification suite, run as scenarios through the runner, plus the runner's own
behaviour: a wrong expectation fails with the difference, bad files are refused, runs repeat.
"""

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from emu.cli import main
from emu.errors import ScenarioError
from emu.scenario.runner import run_scenario
from emu.scenario.spec import load_scenario, parse_scenario

from core_helpers import ROOT, image

SUITE = sorted((ROOT / "scenarios" / "qualification").glob("*.toml"))


@pytest.fixture(scope="module", autouse=True)
def _images_built():
    image("m4f", "ota_app_1_0_0")


@pytest.mark.parametrize("path", SUITE, ids=[p.stem for p in SUITE])
def test_qualification_scenario_passes(path):
    outcome = run_scenario(load_scenario(path))
    assert outcome.passed, outcome.reason + "\n" + outcome.transcript[-3000:]


def _greater(expect_status: str) -> dict:
    return {"name": "wrong-expectation", "device": {"image": "ota_app", "version": "1.0.0"},
            "job": [{"version": "1.0.1", "expect": {"status": expect_status}}]}


def test_a_wrong_expectation_fails_with_the_difference():
    outcome = run_scenario(parse_scenario(_greater("FAILED"), "inline"))
    assert not outcome.passed
    assert "job status SUCCEEDED, expected FAILED" in outcome.reason


def test_a_run_repeats_exactly():
    scenario = parse_scenario(_greater("SUCCEEDED"), "inline")
    first, second = run_scenario(scenario), run_scenario(scenario)
    assert first.passed and second.passed
    assert first.transcript == second.transcript
    assert first.virtual == second.virtual


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(colour="blue"), "unknown key 'colour'"),
    (lambda d: d["device"].update(version="1.0"), "version must look like 1.2.3"),
    (lambda d: d.update(job=[]), r"needs at least one \[\[job\]\]"),
    (lambda d: d["job"][0].update(signer="someone"), "signer must be one of"),
    (lambda d: d["job"][0]["expect"].update(status="DONE"), "status must be one of"),
    (lambda d: d["job"][0].update(faults={"drop": ["x"]}), "list of block indices"),
])
def test_malformed_scenario_is_refused_naming_the_key(change, message):
    data = _greater("SUCCEEDED")
    change(data)
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data, "bad.toml")


def test_cli_prints_one_line_per_scenario_a_summary_and_junit(tmp_path, capsys):
    junit = tmp_path / "report.xml"
    status = main(["scenario", str(SUITE[0]), "--junit", str(junit)])
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[0].startswith(f"PASS {load_scenario(SUITE[0]).name} (virtual ")
    assert out[-1] == "1 passed, 0 failed"
    assert 'failures="0"' in junit.read_text()


def test_cli_refuses_a_broken_file_with_one_line(tmp_path, capsys):
    bad = tmp_path / "broken.toml"
    bad.write_text("name = [unclosed")
    assert main(["scenario", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "broken.toml" in err[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mosquitto(tmp_path):
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        pytest.skip("mosquitto is not installed")
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield ("127.0.0.1", port)
    proc.terminate()
    proc.wait(timeout=5)


@pytest.mark.broker
def test_update_succeeds_through_a_real_mosquitto_broker(mosquitto):
    outcome = run_scenario(load_scenario(ROOT / "scenarios/qualification/greater-version.toml"),
                           broker=mosquitto)
    assert outcome.passed, outcome.reason + "\n" + outcome.transcript[-2000:]


def test_demo_updates_the_bundled_firmware_end_to_end(capsys):
    assert main(["demo", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "SUCCEEDED (accepted v1.0.1)" in out
    assert "the device runs v1.0.1 (image confirmed)" in out
