"""Staff at the shell: publish with a document, refuse bad files, change, respond, report."""

from __future__ import annotations

import csv

import pytest


def test_publish_change_respond_and_report_from_the_shell(shell, capsys, tmp_path):
    pdf = tmp_path / "bien-ban.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + b"0" * 2000)
    body = tmp_path / "body.txt"
    body.write_text("Dự thảo phương án giá nước sạch.\nMời Nhân dân góp ý.", encoding="utf-8")

    code, out, err = shell(capsys, "disclosure", "add", "--category", "11", "--title",
                           "Lấy ý kiến giá nước sạch", "--body-file", str(body), "--file",
                           str(pdf), "--decided", "2026-11-02", "--from", "2026-11-20",
                           "--consult-until", "2026-11-30")
    assert code == 0, err
    assert "published disclosure 1" in out
    assert "shorter than the 20 days" in err and "later than 5 working days" in err
    stored = list((tmp_path / "data" / "files" / "disclosures").rglob("bien-ban.pdf"))
    assert len(stored) == 1 and stored[0].read_bytes() == pdf.read_bytes()

    code, out, err = shell(capsys, "disclosure", "add", "--category", "13", "--title",
                           "Thủ tục chứng thực", "--body", "Trong ngày.", "--from",
                           "2026-11-23", "--decided", "2026-11-18")
    assert code == 0, err

    code, out, _ = shell(capsys, "disclosure", "list")
    assert "Thủ tục chứng thực" in out and "permanent" in out  # item 13 is permanent
    assert "2026-11-20 → 2026-12-20" in out

    code, out, err = shell(capsys, "disclosure", "edit", "1", "--title",
                           "Lấy ý kiến giá nước sạch (sửa đổi)")
    assert code == 0 and "version 2" in out

    code, out, err = shell(capsys, "disclosure", "respond", "1", "--text", "Giữ nguyên giá.")
    assert code == 0 and "0 commenter(s)" in out

    report = tmp_path / "q4.csv"
    code, out, err = shell(capsys, "report", "disclosures", "--quarter", "2026Q4", "-o",
                           str(report))
    assert code == 0, err
    raw = report.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads Vietnamese correctly
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:3] == ["STT", "Lĩnh vực (Điều 11)", "Tiêu đề"]
    assert [row[2] for row in rows[1:]] == ["Lấy ý kiến giá nước sạch (sửa đổi)",
                                          "Thủ tục chứng thực"]
    assert [row[-1] for row in rows[1:]] == ["Không", "Có"]  # 5 working days after decision
    assert rows[2][5] == "Thường xuyên"

    code, out, err = shell(capsys, "report", "disclosures", "--quarter", "2026Q3")
    assert code == 0 and "0 disclosure(s)" in err

    code, out, err = shell(capsys, "disclosure", "comments", "1", "-o", str(tmp_path / "c.csv"))
    assert code == 0 and "0 comment(s)" in err
    assert (tmp_path / "c.csv").read_text(encoding="utf-8-sig").startswith("STT,")


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("anh.jpg", b"\xff\xd8\xff\xe0", "only documents can be attached"),
    ("gia-mao.pdf", b"MZ\x90\x00", "not a .pdf document"),
    ("to.pdf", b"%PDF" + b"0" * (20 * 1024 * 1024 + 1), "the limit is 20 MB"),
])
def test_files_that_are_not_documents_are_refused_with_the_reason(
    shell, capsys, tmp_path, name, content, reason
):
    (tmp_path / name).write_bytes(content)
    code, out, err = shell(capsys, "disclosure", "add", "--category", "2", "--title", "T",
                           "--body", "B", "--file", str(tmp_path / name))
    assert code == 1
    assert reason in err and err.count("\n") == 1
    code, out, _ = shell(capsys, "disclosure", "list")
    assert out == ""


@pytest.mark.parametrize("args", [
    ["disclosure", "add", "--category", "15", "--title", "T", "--body", "B"],
    ["disclosure", "add", "--category", "2", "--title", "T", "--body", "B", "--until",
     "31/12/2026"],
    ["report", "disclosures", "--quarter", "2026Q7"],
    ["disclosure", "edit", "99", "--title", "x"],
])
def test_bad_arguments_give_one_clear_line(shell, capsys, args):
    try:
        code, out, err = shell(capsys, *args)
    except SystemExit as exc:  # argparse's own refusal
        code, err = exc.code, capsys.readouterr().err
    assert code in (1, 2) and err.strip()
    assert "Traceback" not in err
