"""`registry evaluate` on a small generated registry built through the command line (synth, import, dedupe):
the accuracy table and the calibration (reliability by probability band, expected calibration error)."""

import re

import pytest
from typer.testing import CliRunner

from registry.cli import app


@pytest.mark.slow
def test_evaluate_prints_reliability_bands_and_calibration_error(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REGISTRY_DATABASE_URL", raising=False)
    monkeypatch.delenv("REGISTRY_KEY_DIR", raising=False)
    data, truth = tmp_path / "children.csv", tmp_path / "truth.csv"
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        return result.output

    run("init")
    run("synth", str(data), "--records", "2500", "--seed", "4", "--truth", str(truth), "--mix", "hard")
    run("import", str(data))
    run("dedupe")
    out = run("evaluate", "--truth", str(truth), "--data", str(data), "--no-baseline")
    assert "registry (keyed encodings)" in out
    bands = re.findall(r"^\s*(0\.\d{3})-(\d\.\d{3})\s+(\d+)\s+(0\.\d{3}|1\.000)\s+(0\.\d{3}|1\.000)\s*$", out, re.M)
    assert len(bands) >= 4, out
    assert sum(int(b[2]) for b in bands) > 300
    for low, high, _, said, _ in bands:
        assert float(low) <= float(said) <= float(high)
    ece = float(re.search(r"expected calibration error (\d\.\d+)", out).group(1))
    assert 0.0 <= ece <= 0.06, out
    assert "unknown synth mix" in runner.invoke(app, ["synth", str(tmp_path / "x.csv"), "--mix", "easy"]).output
