"""The answer a report leads with: the verdict in one sentence, the fix as numbered steps with the exact values,
and what to check afterwards.

Today it rests on the most likely root cause the checks give (the first failing finding: the runner sorts causes
before symptoms and the worst first). A model of the SP's login steps can build a more precise :class:`Answer`
("Atlan stops at step N: <page>, because …") and put it in its place; every renderer shows whichever it gets.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from ssodiag.diag.broker import BROKER_STOP_CHECK
from ssodiag.diag.model import Answer, Finding, FixStep, LoadedInput, Status, Verdict, VerdictStatus

# A new sentence starts after . ! or ? and a space, before a capital, a quote or a parenthesis; never after "e.g."
# or "i.e." ("format (e.g. Email)" is one step).
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\be\.g\.)(?<!\bi\.e\.)\s+(?=[A-Z\"'(`])")
MAX_STEPS = 6
ANSWER_BASES = ("finding", "verdict")  # Answer.basis: the top failing finding, or the verdict when nothing is to fix

AGAIN = "Sign in again the same way (same user, started from the same place) and save a new HAR of the attempt."
# After a finding judged at a stand-in for the login time (no --at, no capture time): --at decides it, no new login
AT_LOGIN_TIME = ("Run the same command again with `--at` set to the time of the failed login (from the ticket, e.g. "
                 "`--at 2026-11-28T14:05:00Z`): the evidence carries no login time, so `{check}` was judged at a "
                 "stand-in for it (see its message).")
STILL_FAILING = ("If the user still cannot sign in, capture a HAR of the failing attempt from Atlan's login page to "
                 "the error and run `ssodiag analyze` on it.")


def steps_of(remediation: str) -> list[str]:
    """A remediation text as steps, one sentence each (the last ones joined when there are more than MAX_STEPS)."""
    sentences: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(remediation.strip())):
        if sentences and (sentence.startswith("(") and sentence.endswith(")") or sentences[-1].count("`") % 2):
            # "(see SIG004)" belongs to the step before it, and so does the rest of a quoted page text
            # ("Keycloak shows `Login timeout. Please sign in again.`")
            sentences[-1] += " " + sentence
        elif sentence:
            sentences.append(sentence)
    if len(sentences) > MAX_STEPS:
        sentences[MAX_STEPS - 1:] = [" ".join(sentences[MAX_STEPS - 1:])]
    return sentences


def _exact_values(finding: Finding) -> tuple[tuple[str, str], ...]:
    values = []
    if finding.expected is not None:
        values.append(("Expected", finding.expected))
    if finding.seen is not None:
        values.append(("This login sent", finding.seen))
    return tuple(values)


def _fix_for(finding: Finding) -> tuple[FixStep, ...]:
    texts = steps_of(finding.remediation)
    values = _exact_values(finding)
    return tuple(FixStep(text, values if index == 0 else ()) for index, text in enumerate(texts))


def build_answer(findings: Sequence[Finding], verdict: Verdict, inputs: Sequence[LoadedInput] = (),
                 stand_in_time: Collection[str] = ()) -> Answer:
    """The answer from the verdict and the sorted findings. ``stand_in_time``: the checks judged at a stand-in for
    an unknown login time (their result may change with --at, so running with it is what to do next)."""
    top = next((f for f in findings if f.check_id == verdict.top_check_id and f.status in (Status.FAIL, Status.WARN)),
               None)
    at_first = top is not None and top.check_id in stand_in_time
    if verdict.status is VerdictStatus.FAIL and top is not None:
        others = len({f.check_id for f in findings if f.status is Status.FAIL} - {top.check_id})
        more = f" ({others} other problem{'s' if others != 1 else ''} below)" if others else ""
        after = [AGAIN, f"Run `ssodiag analyze` on it: `{top.check_id}` ({top.title}) is no longer reported, and the "
                        "browser ends in Atlan, not on an error page."]
        if at_first:
            after = [AT_LOGIN_TIME.format(check=top.check_id),
                     f"If `{top.check_id}` is still reported, make the fix; then {AGAIN[0].lower()}{AGAIN[1:]}",
                     after[1]]
        if others:
            after.append("If the login still fails, fix the next problem listed below the same way.")
        # for an Atlan login the broker model says where it stops, in full ("Atlan stops at step 7: …")
        headline = top.message.rstrip(".") if top.check_id == BROKER_STOP_CHECK else top.title
        return Answer(f"This login fails: {headline}{more}.", _fix_for(top), tuple(after), top.check_id)
    if verdict.status is VerdictStatus.WARN and top is not None:
        after = (AT_LOGIN_TIME.format(check=top.check_id) if at_first else
                 f"Run `ssodiag analyze` on a new capture: `{top.check_id}` is no longer reported.")
        return Answer(verdict.summary, _fix_for(top), (after,), top.check_id)
    if verdict.status is VerdictStatus.INCOMPLETE:
        unread = [i for i in inputs if i.error]
        steps = tuple(FixStep(f"Give `{i.source}` again as a file ssodiag reads (HAR, SAML-tracer export, SAML "
                              "message, metadata, certificate or error page), or leave it out.", (("Error", i.error),))
                      for i in unread[:MAX_STEPS])
        return Answer(verdict.summary, steps, ("Run the same command again: the verdict is no longer incomplete.",),
                      basis="verdict")
    return Answer(verdict.summary, (), (STILL_FAILING,) if verdict.status is VerdictStatus.PASS else (),
                  basis="verdict")
