"""The terminal rendering of `ssodiag diff` documents (diag.diff.compare); the other formats are templates\n(reports.render)."""
from __future__ import annotations

from ssodiag.diag.text import clip


def render_terminal(diff: dict, **_: object) -> str:
    lines = []
    for side in ("good", "bad"):  # each side's unreadable files under its own verdict
        lines.append(f"{side.upper():<5} {diff[side]['verdict']['status'].upper():<12} "
                     f"{clip(diff[side]['verdict']['summary'], 100)}")
        lines += [f"      input error: {clip(e, 150)}" for e in diff[side]["bad_files"]]
    lines.append("")
    lines.append("What differs, most likely cause first:" if diff["differences"] else
                 "No difference in the fields compared.")
    for d in diff["differences"]:
        because = f"  [BAD fails {', '.join(d['explains'])}]" if d["explains"] else ""
        lines.append(f"  {clip(d['field'], 70)}{because}")
        lines.append(f"    GOOD: {clip(d['good'], 150)}")
        lines.append(f"    BAD:  {clip(d['bad'], 150)}")
    if diff["only_bad_fails"]:
        lines += ["", "Checks that fail for BAD only:"]
        for f in diff["only_bad_fails"]:
            lines += [f"  {f['check_id']} {clip(f['title'], 100)}", f"    fix: {clip(f['remediation'], 200)}"]
    if diff["only_good_fails"]:
        lines += ["", "Checks that fail for GOOD only: " + ", ".join(f["check_id"] for f in diff["only_good_fails"])]
    if diff["redacted"]:  # the receipt ends every redacted output
        lines += ["", clip(diff["redaction"]["summary"], 300)]
    return "\n".join(lines) + "\n"
