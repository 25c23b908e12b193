"""A seccomp-BPF program that refuses dangerous system calls (pure; no I/O).

Written by hand rather than through libseccomp: no Python binding for libseccomp is on
PyPI for this platform's interpreter without a C toolchain, and the program is small. It
is the classic ``struct sock_filter`` array the kernel and ``bwrap --seccomp FD`` accept.

The program: a foreign architecture (or the x32 ABI on x86_64) is killed; the listed
system calls fail with ``EPERM``; ``clone``/``unshare`` asking for new namespaces fail
with ``EPERM``; ``clone3`` fails with ``ENOSYS`` (its flags live in memory a filter cannot
read, so the C library falls back to ``clone``, which we can check); ``ioctl(TIOCSTI)``
(typing into the controlling terminal) fails with ``EPERM``. Everything else is allowed.
"""

from __future__ import annotations

import errno
import functools
import platform
import struct

__all__ = ["DENIED_SYSCALLS", "UnsupportedArchitectureError", "seccomp_program"]

# Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K

# seccomp return actions (linux/seccomp.h).
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000

# Offsets in struct seccomp_data: nr (u32), arch (u32), ip (u64), args[6] (u64, little endian).
_OFF_NR = 0
_OFF_ARCH = 4
_OFF_ARG0_LO = 16
_OFF_ARG1_LO = 24

_X32_SYSCALL_BIT = 0x40000000
_NEW_NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
_TIOCSTI = 0x5412

# System calls refused outright: kernel/module loading, mounts, tracing, keyrings,
# eBPF, namespace juggling, clock and swap changes, reboot, obsolete attack surface.
DENIED_SYSCALLS: tuple[str, ...] = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "unshare",
    "setns",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "syslog",
    "quotactl",
    "open_by_handle_at",
    "name_to_handle_at",
    "userfaultfd",
    "fanotify_init",
    "lookup_dcookie",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "personality",
    "uselib",
    "vhangup",
    "iopl",
    "ioperm",
)

_X86_64: dict[str, int] = {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "mount": 165,
    "umount2": 166, "pivot_root": 155, "chroot": 161, "kexec_load": 246,
    "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176,
    "bpf": 321, "perf_event_open": 298, "keyctl": 250, "add_key": 248, "request_key": 249,
    "unshare": 272, "setns": 308, "swapon": 167, "swapoff": 168, "reboot": 169, "acct": 163,
    "settimeofday": 164, "clock_settime": 227, "clock_adjtime": 305, "adjtimex": 159,
    "syslog": 103, "quotactl": 179, "open_by_handle_at": 304, "name_to_handle_at": 303,
    "userfaultfd": 323, "fanotify_init": 300, "lookup_dcookie": 212, "move_mount": 429,
    "open_tree": 428, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "personality": 135, "uselib": 134, "vhangup": 153, "iopl": 172,
    "ioperm": 173, "clone": 56, "clone3": 435, "ioctl": 16,
}  # fmt: skip

# The generic table (arm64): no uselib/iopl/ioperm; the rest share numbers with riscv64.
_AARCH64: dict[str, int] = {
    "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "mount": 40,
    "umount2": 39, "pivot_root": 41, "chroot": 51, "kexec_load": 104, "kexec_file_load": 294,
    "init_module": 105, "finit_module": 273, "delete_module": 106, "bpf": 280,
    "perf_event_open": 241, "keyctl": 219, "add_key": 217, "request_key": 218, "unshare": 97,
    "setns": 268, "swapon": 224, "swapoff": 225, "reboot": 142, "acct": 89,
    "settimeofday": 170, "clock_settime": 112, "clock_adjtime": 266, "adjtimex": 171,
    "syslog": 116, "quotactl": 60, "open_by_handle_at": 265, "name_to_handle_at": 264,
    "userfaultfd": 282, "fanotify_init": 262, "lookup_dcookie": 18, "move_mount": 429,
    "open_tree": 428, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "personality": 92, "vhangup": 58, "clone": 220, "clone3": 435,
    "ioctl": 29,
}  # fmt: skip

_ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (0xC000003E, _X86_64),
    "aarch64": (0xC00000B7, _AARCH64),
}


class UnsupportedArchitectureError(ValueError):
    """No system-call table is known for this machine; the sandbox refuses rather than guess."""


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


@functools.lru_cache(maxsize=4)
def seccomp_program(machine: str | None = None) -> bytes:
    """Return the filter for ``machine`` (default: this one) as packed ``sock_filter`` structs."""
    arch = machine or platform.machine()
    if arch not in _ARCHES:
        raise UnsupportedArchitectureError(f"no seccomp table for architecture {arch!r}")
    audit_arch, table = _ARCHES[arch]
    eperm = _RET_ERRNO | errno.EPERM
    denied = [table[name] for name in DENIED_SYSCALLS if name in table]

    # Build the body as (instruction, label-or-None) so jumps are resolved after layout.
    out: list[bytes] = [
        _insn(_LD_W_ABS, 0, 0, _OFF_ARCH),
        _insn(_JEQ_K, 1, 0, audit_arch),
        _insn(_RET_K, 0, 0, _RET_KILL_PROCESS),
        _insn(_LD_W_ABS, 0, 0, _OFF_NR),
    ]
    if arch == "x86_64":
        # x32 system calls reuse numbers with the high bit set; refuse the whole ABI.
        out += [_insn(_JGE_K, 0, 1, _X32_SYSCALL_BIT), _insn(_RET_K, 0, 0, eperm)]
    for number in denied:
        out += [_insn(_JEQ_K, 0, 1, number), _insn(_RET_K, 0, 0, eperm)]
    out += [
        _insn(_JEQ_K, 0, 1, table["clone3"]),
        _insn(_RET_K, 0, 0, _RET_ERRNO | errno.ENOSYS),
        # clone(flags, ...): namespace flags in the low word of arg0 on both tables.
        _insn(_JEQ_K, 0, 3, table["clone"]),
        _insn(_LD_W_ABS, 0, 0, _OFF_ARG0_LO),
        _insn(_JSET_K, 0, 1, _NEW_NAMESPACE_FLAGS),
        _insn(_RET_K, 0, 0, eperm),
        # ioctl(fd, TIOCSTI, ...): reload nr, since the clone branch may have clobbered A.
        _insn(_LD_W_ABS, 0, 0, _OFF_NR),
        _insn(_JEQ_K, 0, 3, table["ioctl"]),
        _insn(_LD_W_ABS, 0, 0, _OFF_ARG1_LO),
        _insn(_JEQ_K, 0, 1, _TIOCSTI),
        _insn(_RET_K, 0, 0, eperm),
        _insn(_RET_K, 0, 0, _RET_ALLOW),
    ]
    return b"".join(out)
