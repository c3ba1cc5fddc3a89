"""examples/analysis.ipynb runs from top to bottom in a kernel of this interpreter."""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import pytest

from whoson import Tracker

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "analysis.ipynb"
# Cells that use report options another branch adds; run as soon as the tracker has them.
NEEDS = {"needs-breakdown": "by", "needs-compare": "compare"}


class TestNotebook:
    """The analyst's notebook executes without errors and shows its frames, plots and report."""

    @pytest.mark.timeout(240)
    def test_executes(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        nbformat = pytest.importorskip("nbformat")
        nbclient = pytest.importorskip("nbclient")
        pytest.importorskip("ipykernel")
        spec = tmp_path / "kernels" / "whoson-test"
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "whoson test", "language": "python"}))
        monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
        monkeypatch.setenv("PYTHONPATH", str(ROOT / "src"))
        monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel draws inline
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        options = inspect.signature(Tracker.report).parameters
        missing = {tag for tag, option in NEEDS.items() if option not in options}
        notebook.cells = [c for c in notebook.cells if not missing & set(c.metadata.get("tags", []))]
        client = nbclient.NotebookClient(notebook, kernel_name="whoson-test", timeout=180,
                                         resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
        outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.get("output_type") == "error"]
        html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
        assert any("<h1>2026-03-09 .. 2026-03-15 (7 days)</h1>" in h for h in html)  # the report displayed
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        expected = 2  # the four report plots in one figure, and the weekday x hour heat map
        assert expected == len(images)
        assert any("wrote " in o.get("text", "") for o in outputs)
