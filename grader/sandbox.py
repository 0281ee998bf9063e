"""Run an untrusted command in a Linux sandbox made with util-linux only (no container engine).

What the command sees and may do:
- its own mount, PID, network, IPC and UTS namespaces: no network at all (not even loopback),
  no other process of the machine, and a private filesystem;
- that filesystem: the system directories, Python and the course's .venv, all read-only, plus ONE
  writable working directory (the submission's) and a small private /tmp. The repository itself
  (solutions/, submitted/, autograded/, gradebook.db), home directories and every other
  submission are absent;
- resource limits: address space, CPU seconds, file size, open files and processes;
- optionally, packages it must not have (TensorFlow and Keras for a NumPy task): their folders are
  covered by ones whose only module raises ModuleNotFoundError;
- when run as root, it also drops to an unprivileged user id of its own (one per sandbox, from
  `sandbox_uid()`, so that one submission's processes can never count against, signal or read
  another's), with no capabilities and no_new_privs. As another user it runs in a user namespace
  instead (same mounts, the caller's uid).

`check()` says why a sandbox cannot be made here, or None when it can.
"""
import itertools
import os
import shlex
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass

NOBODY = 65534
_uids, _uids_lock = itertools.cycle(range(200_000, 260_000)), threading.Lock()


def sandbox_uid():
    """A user id for one sandbox, different from every other sandbox running at the same time."""
    with _uids_lock:
        return next(_uids)


@dataclass
class Limits:
    """Resource limits of one sandboxed process tree."""
    memory_bytes: int = 6 * 2**30     # address space of each process (TensorFlow maps a lot of it)
    cpu_seconds: int = 600
    file_bytes: int = 64 * 2**20      # largest file it may write
    open_files: int = 256
    processes: int = 128              # counted per user id: each sandbox has its own (as root)


def readonly_mounts():
    """(source, target) of the directories the sandbox needs, read-only: the system, Python's
    installation and the venv (at their real paths, and at the paths they are called by)."""
    # not /opt: package indexes and wheels live there on some machines (a wheel is a zip file of a
    # package that a NumPy task must not have); Python itself is mounted below, wherever it is
    mounts = [(p, p) for p in ["/usr", "/etc", "/lib", "/lib64", "/bin", "/sbin"] if os.path.lexists(p)]
    for prefix in dict.fromkeys([sys.base_prefix, sys.prefix]):
        real = os.path.realpath(prefix)
        mounts += [(real, real)] + ([(real, prefix)] if real != prefix else [])
    return mounts


def package_locations(names):
    """(name, folder) of every copy of the packages in `names` that the sandbox would otherwise
    see: in any folder of sys.path, or in the site-packages of the base Python (which a student
    could add to sys.path), when that folder lies inside what the sandbox mounts."""
    import sysconfig
    folders = list(sys.path) + [sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})[key]
                                for key in ("purelib", "platlib")]
    mounted = [target.rstrip("/") + "/" for _, target in readonly_mounts()]
    found = []
    for folder in dict.fromkeys(os.path.realpath(f or ".") for f in folders):
        for name in names:
            package = os.path.join(folder, name)
            if os.path.isdir(package) and any(package.startswith(t) for t in mounted) and (name, package) not in found:
                found.append((name, package))
    return found


def _hide_package(name, folder):
    """Mount lines that put, over the package's folder, one that holds only an __init__.py raising
    ModuleNotFoundError: the package is not there, whatever import trick is tried."""
    stub = (f"raise ModuleNotFoundError(\"No module named '{name}': it is not available when this "
            f"assignment is graded\", name={name!r})\n")
    target = f'"$R"{shlex.quote(folder)}'
    return [f"mkdir -p {target}", f"mount -t tmpfs -o size=64k,mode=755 hidden {target}",
            f"printf '%s' {shlex.quote(stub)} > {target}/__init__.py", f"mount -o remount,ro {target}"]


def _mount_script(root, workdir, limits, command, uid, hidden=()):
    """The shell script run as (namespace) root inside the new namespaces: build the filesystem in
    a tmpfs at `root`, chroot into it, drop privileges and limit resources, exec `command`."""
    lines = ["set -eu", f"R={shlex.quote(root)}",
             'mount -t tmpfs -o size=16m,mode=755 sandbox "$R"',
             'mkdir -p "$R/proc" "$R/tmp" "$R/dev/shm"',
             'mount -t proc proc "$R/proc"',
             'mount -t tmpfs -o size=256m,mode=1777 tmp "$R/tmp"',
             'mount -t tmpfs -o size=64m,mode=1777 shm "$R/dev/shm"']
    for device in ["null", "zero", "random", "urandom"]:
        lines += [f'touch "$R/dev/{device}"', f'mount --bind /dev/{device} "$R/dev/{device}"']
    # after /tmp: the venv or the work dir may lie below it
    for source, target in readonly_mounts():
        if source == target and os.path.islink(source):   # /bin -> usr/bin on merged-/usr systems
            lines.append(f'ln -s {shlex.quote(os.readlink(source))} "$R"{shlex.quote(target)}')
        else:
            lines += [f'mkdir -p "$R"{shlex.quote(target)}',
                      f'mount --rbind {shlex.quote(source)} "$R"{shlex.quote(target)}',
                      f'mount -o remount,bind,ro "$R"{shlex.quote(target)}']
    lines += [f'mkdir -p "$R"{shlex.quote(workdir)}',
              f'mount --bind {shlex.quote(workdir)} "$R"{shlex.quote(workdir)}']
    for name, folder in hidden:
        lines += _hide_package(name, folder)
    setpriv, prlimit = shutil.which("setpriv"), shutil.which("prlimit")
    drop = (f"{setpriv} --reuid={uid} --regid={uid} --clear-groups --no-new-privs --inh-caps=-all "
            if os.geteuid() == 0 else f"{setpriv} --no-new-privs ")
    limit = (f"{prlimit} --as={limits.memory_bytes} --cpu={limits.cpu_seconds} --fsize={limits.file_bytes} "
             f"--nofile={limits.open_files} --nproc={limits.processes} --core=0 -- ")
    lines.append(f'exec {shutil.which("chroot")} "$R" /bin/sh -c {shlex.quote("cd " + shlex.quote(workdir) + " && exec " + drop + limit + shlex.join(command))}')
    return "\n".join(lines)


def wrap(command, workdir, root, limits=None, uid=NOBODY, hidden=()):
    """The argv that runs `command` (a list) sandboxed, with `workdir` as its only writable
    directory (seen at the same path). `root` must be an empty directory for the sandbox's own
    filesystem. `hidden`: (package name, folder) pairs from package_locations, which the sandbox
    does not have. Killing the returned process kills everything inside (PID namespace)."""
    limits = limits or Limits()
    namespaces = ["--mount", "--pid", "--fork", "--net", "--ipc", "--uts", "--kill-child"]
    if os.geteuid() != 0:
        namespaces.insert(0, "--map-root-user")
        namespaces.insert(0, "--user")
    script = _mount_script(os.path.abspath(root), os.path.abspath(workdir), limits, command, uid, hidden)
    return [shutil.which("unshare"), *namespaces, "--propagation", "private", "/bin/sh", "-c", script]


def prepare_workdir(workdir, uid=NOBODY):
    """Make `workdir` writable by the sandboxed user `uid`."""
    os.makedirs(workdir, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(workdir, uid, uid)
    os.chmod(workdir, 0o700)


def check(tmp_parent=None):
    """None if a sandbox works here; otherwise the reason, for a clear refusal."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux namespaces; this is {sys.platform}"
    for tool in ["unshare", "setpriv", "prlimit", "chroot", "mount"]:
        if shutil.which(tool) is None:
            return f"`{tool}` (util-linux / coreutils) is not installed"
    import tempfile
    base = tempfile.mkdtemp(dir=tmp_parent)
    try:
        work, root = os.path.join(base, "work"), os.path.join(base, "root")
        prepare_workdir(work)
        os.makedirs(root)
        probe = wrap([sys.executable, "-c", "open('probe', 'w').write('ok')"], work, root)
        result = subprocess.run(probe, capture_output=True, text=True, timeout=60)
        if result.returncode != 0 or not os.path.exists(os.path.join(work, "probe")):
            return f"making a sandbox failed here: {result.stderr.strip()[-500:] or result.returncode}"
        return None
    finally:
        shutil.rmtree(base, ignore_errors=True)
