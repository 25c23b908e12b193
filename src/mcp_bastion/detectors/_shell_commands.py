"""The command table of the shell-injection detector: which words are commands, and when.

Many Unix commands are also English words (``cat``, ``id``, ``sleep``, ``find``), so a
word after ``;`` or ``|`` counts as a command only when its arguments have the shape that
command takes (a flag, a path, a host, a number, inline code) or, for a few words that
are not English, when it stands alone. ``tier`` says whether the command is typical of an
attack (reconnaissance, network, shells, destruction) or of everyday use; contexts that
also occur in documents (Markdown code spans, new lines) only trust the attack tier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["COMMANDS", "Command", "arg_shapes"]

# Argument shapes a command may take; see ``arg_shapes``.
BARE = "bare"  # nothing follows
FLAG = "flag"  # -x, --long, /c (Windows)
PATH = "path"  # /etc/passwd, ~/.ssh, ./x, ../x, C:\x, %TEMP%, $HOME
SENSITIVE = "sensitive"  # a path an attacker reads or writes (/etc, /proc, ~/.ssh, .env ...)
NET = "net"  # URL, IP address, host name with a dot, host:port
NUM = "num"  # 5, 10s
CODE = "code"  # -c/-e/-r followed by code
ANY = "any"  # any argument at all (the word is never English)


@dataclass(frozen=True, slots=True)
class Command:
    """Argument shapes that make a word a command, and whether it is attack-typical."""

    shapes: frozenset[str]
    attack: bool


def _c(shapes: str, *, attack: bool = True) -> Command:
    return Command(frozenset(shapes.split()), attack)


COMMANDS: dict[str, Command] = {
    # reconnaissance
    "whoami": _c("bare any"), "id": _c("bare flag"), "uname": _c("bare flag"), "hostname": _c("bare flag"),
    "ifconfig": _c("bare any"), "ipconfig": _c("bare any"), "netstat": _c("bare any"),
    "printenv": _c("bare any"), "env": _c("bare"), "pwd": _c("bare", attack=False),
    "ps": _c("bare flag", attack=False), "ls": _c("bare flag path", attack=False),
    "dir": _c("flag path", attack=False), "systeminfo": _c("bare any"), "tasklist": _c("bare any"),
    "net": _c("netcmd"), "w": _c("bare", attack=False), "getent": _c("any"),
    # reading files
    "cat": _c("sensitive path"), "head": _c("sensitive flag path", attack=False),
    "tail": _c("sensitive flag path", attack=False), "more": _c("sensitive"), "less": _c("sensitive"),
    "type": _c("sensitive"), "strings": _c("sensitive"), "nl": _c("sensitive"), "tac": _c("sensitive"),
    "grep": _c("sensitive", attack=False), "find": _c("path", attack=False),
    "echo": _c("echo", attack=False), "printf": _c("echo", attack=False),
    # network
    "curl": _c("net flag any"), "wget": _c("net flag any"), "nc": _c("net flag any"),
    "ncat": _c("net flag any"), "netcat": _c("net flag any"), "socat": _c("any"), "telnet": _c("net"),
    "ping": _c("net flag"), "nslookup": _c("net any"), "dig": _c("net"), "host": _c("net"),
    "tftp": _c("net flag"), "ftp": _c("net"), "ssh": _c("net flag"), "scp": _c("any"), "nmap": _c("any"),
    "certutil": _c("any"), "bitsadmin": _c("any"), "xterm": _c("flag"),
    # shells and interpreters
    "sh": _c("code flag path bare-pipe"), "bash": _c("code flag path bare-pipe"),
    "zsh": _c("code flag path bare-pipe"), "ksh": _c("code flag bare-pipe"),
    "dash": _c("code flag bare-pipe"), "csh": _c("code flag bare-pipe"),
    "busybox": _c("any"), "python": _c("code path bare-pipe"), "python3": _c("code path bare-pipe"),
    "python2": _c("code path bare-pipe"), "perl": _c("code bare-pipe"), "ruby": _c("code bare-pipe"),
    "php": _c("code bare-pipe"), "node": _c("code"), "lua": _c("code"), "powershell": _c("any bare"),
    "pwsh": _c("any"), "cmd": _c("flag"), "cmd.exe": _c("any"), "eval": _c("any"), "exec": _c("any"),
    "nohup": _c("any"), "xargs": _c("any"), "awk": _c("quoted"), "sed": _c("flag quoted"),
    "base64": _c("flag"), "xxd": _c("flag"), "openssl": _c("any"), "wmic": _c("any"),
    "mshta": _c("any"), "rundll32": _c("any"), "regsvr32": _c("any"), "cscript": _c("any"),
    "msiexec": _c("any"), "schtasks": _c("any"),
    # changing the system
    "rm": _c("flag path"), "rmdir": _c("flag path"), "del": _c("flag path"), "mkfifo": _c("any"),
    "chmod": _c("any"), "chown": _c("any"), "chattr": _c("any"), "dd": _c("ddargs"), "mkfs": _c("any"),
    "touch": _c("path"), "cp": _c("path flag", attack=False), "mv": _c("path flag", attack=False),
    "crontab": _c("any"), "useradd": _c("any"), "adduser": _c("any"), "usermod": _c("any"),
    "passwd": _c("bare any"), "sudo": _c("any"), "su": _c("flag bare"), "kill": _c("num flag"),
    "killall": _c("any"), "pkill": _c("any"), "shutdown": _c("flag bare"), "reboot": _c("bare flag"),
    "halt": _c("bare"), "poweroff": _c("bare"), "sleep": _c("num"), "timeout": _c("num"),
    "iptables": _c("any"), "systemctl": _c("any"), "insmod": _c("any"), "tar": _c("flag", attack=False),
    "chpasswd": _c("any"), "setsid": _c("any"), "mknod": _c("any"), "wall": _c("any"),
}  # fmt: skip

_FLAG = re.compile(r"(?:-{1,2}[A-Za-z0-9]|/[a-zA-Z?]\b)")
_PATH = re.compile(r"(?:/|~|\.{1,2}/|[A-Za-z]:\\|%[A-Za-z_]+%|\$[A-Za-z_{])")
_SENSITIVE = re.compile(
    r"(?:/etc/|/proc/|/root\b|/home/[^/\s]+/\.|~/\.|/var/(?:log|www|spool)|/boot|/dev/|\.ssh|\.env\b|"
    r"\.aws/|\.bash_history|id_rsa|passwd|shadow|win\.ini|boot\.ini|[A-Za-z]:\\windows)",
    re.IGNORECASE,
)
_NET = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|\d{1,3}(?:\.\d{1,3}){3}|[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b|[\w.-]+:\d{2,5}\b|-e\b)",
    re.IGNORECASE,
)
_NUM = re.compile(r"\d+(?:\.\d+)?[smhd]?$")
_CODE = re.compile(r"-(?:c|e|r|E|enc|encodedcommand|command|nop|w|i)\b", re.IGNORECASE)


def arg_shapes(args: list[str]) -> set[str]:
    """The shapes seen in ``args`` (the words after a command, up to the next separator)."""
    shapes: set[str] = set()
    if not args:
        return shapes
    first = args[0]
    shapes.add(ANY)
    if _FLAG.match(first):
        shapes.add(FLAG)
    if _CODE.match(first) and len(args) > 1:
        shapes.add(CODE)
    if first.startswith(("'", '"')):
        shapes.add("quoted")
    if len(args) == 1 and _NUM.match(first):
        shapes.add(NUM)
    if first in ("user", "localgroup", "view", "share", "use"):
        shapes.add("netcmd")
    if first.startswith(("if=", "of=")):
        shapes.add("ddargs")
    for arg in args[:4]:
        if _PATH.match(arg):
            shapes.add(PATH)
        if _SENSITIVE.search(arg):
            shapes.add(SENSITIVE)
        if _NET.match(arg):
            shapes.add(NET)
    if any(a.startswith((">", "$(", "`")) or a in (">", ">>") for a in args):
        shapes.add("echo")
    return shapes
