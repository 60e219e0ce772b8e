"""The results tables of README.md and docs/results.md are generated from the CSVs: a changed
value makes its block stale (and the check fails) until `python -m benchmarks.report` runs."""
import shutil

import pandas as pd
import pytest

from benchmarks import report


def test_readme_and_docs_tables_match_the_csvs():
    assert report.update(check=True) == [], "run: python -m benchmarks.report"


def test_every_results_file_is_named_with_the_command_that_makes_it():
    files = {p.name for p in report.RESULTS.iterdir() if p.is_file()}
    assert files - set(report.FILES) == set()
    assert "<!-- results:files -->" in (report.REPO / "docs" / "results.md").read_text()


def test_readme_is_short_and_opens_with_the_two_commands():
    lines = (report.REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 150
    head = "\n".join(lines[:40])
    assert "python -m codesign.search --device pixel7 --budget 50ms" in head
    assert "python -m pytest" in head


@pytest.fixture
def results(tmp_path, monkeypatch):
    """A results folder holding budget_hit.csv and a document with its block, empty."""
    folder = tmp_path / "results"
    folder.mkdir()
    shutil.copy(report.RESULTS / "budget_hit.csv", folder / "budget_hit.csv")
    monkeypatch.setattr(report, "RESULTS", folder)
    doc = tmp_path / "doc.md"
    doc.write_text("# t\n\n<!-- results:budget_hit -->\n<!-- /results:budget_hit -->\n")
    return folder / "budget_hit.csv", doc


def test_a_changed_csv_value_is_stale_until_the_report_runs(results):
    csv, doc = results
    assert report.update([doc]) != []                      # first generation fills the block
    assert report.update([doc], check=True) == []
    before = doc.read_text()
    frame = pd.read_csv(csv)
    first = frame.index[frame["budget_ms"].notna()][0]
    frame.loc[first, "measured_ms"] = frame.loc[first, "budget_ms"] * 1.5  # now out of band
    frame.to_csv(csv, index=False)
    assert report.update([doc], check=True) == [f"{doc}:budget_hit"]
    assert doc.read_text() == before                        # --check writes nothing
    assert report.update([doc]) == [f"{doc}:budget_hit"]
    assert report.update([doc], check=True) == []
    assert doc.read_text() != before


def test_an_unknown_block_name_is_one_error(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- results:nope -->\n<!-- /results:nope -->\n")
    with pytest.raises(ValueError, match="unknown results block 'nope'"):
        report.update([doc], check=True)


def test_check_from_the_command_line_exits_1_on_a_stale_block(results, capsys, monkeypatch):
    csv, doc = results
    monkeypatch.setattr(report, "DOCUMENTS", (doc,))
    assert report.main([]) == 0
    assert report.main(["--check"]) == 0
    frame = pd.read_csv(csv)
    frame.loc[frame.index[0], "rounds"] = 99
    frame.to_csv(csv, index=False)
    assert report.main(["--check"]) == 1
    assert "stale:" in capsys.readouterr().out
