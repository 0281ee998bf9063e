"""Run an untrusted command in a Linux sandbox made with util-linux only (no container engine).

What the command sees and may do:
- its own mount, PID, network, IPC and UTS namespaces: no network at all (not even loopback),
  no other process of the machine, and a private filesystem;
- that filesystem: the system directories, Python and the course's .venv, all read-only, plus ONE
  writable working directory (the submission's) and a small private /tmp. The repository itself
  (solutions/, submitted/, autograded/, gradebook.db), home directories and every other
  submission are absent;
- resource limits: per process, address space, CPU seconds, file size and open files; for the
  whole sandbox, memory (its tmpfs included) and process count, in a cgroup of its own (cgroup v2
  where it has the memory and pids controllers, else the v1 hierarchies; where neither can be
  written, only the per-process limits and the per-user process count hold);
- its working folder (the kernel's current and home directory) is a tmpfs of bounded size mounted
  inside its own mount namespace: the host's disk never sees what it writes, and it vanishes with
  the sandbox; the kernel's sockets are in a separate folder it may not write in once it runs;
- for a NumPy task, an allow-list of packages (`allowlist_site`): NumPy, matplotlib, ipykernel and
  their dependencies, hard-linked into a folder of their own that is mounted over the venv's
  site-packages at every path the sandbox sees the venv by (its real path and the path it is
  called by, so a venv reached through a symbolic link is covered too); the base Python's
  site-packages and the system's dist-packages are empty. Otherwise, packages it must not have
  (the course's own, for assignment 4): their folders are covered by ones whose only module raises
  ModuleNotFoundError;
- when run as root, it also drops to an unprivileged user id of its own (one per sandbox, from
  `sandbox_uid()`, unique on the machine across grader processes, so that one submission's
  processes can never count against, signal or read another's), with no capabilities and
  no_new_privs. As another user it runs in a user namespace
  instead (same mounts, the caller's uid).

`check()` says why a sandbox cannot be made here, or None when it can.
"""
import fcntl
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass

NOBODY = 65534
UIDS = range(200_000, 260_000)
LOCKS = "/run/lock/scratchnn-grader"     # one lock file per user id in use, for every grader process
_held, _held_lock = {}, threading.Lock()


def sandbox_uid():
    """A user id for one sandbox, different from every other sandbox running at the same time on
    this machine, in this grader process or in another: the id is taken by holding an exclusive
    lock on LOCKS/<uid>.lock (released by release_uid, or when the process ends)."""
    if os.geteuid() != 0:
        return NOBODY                 # in a user namespace the id is the caller's anyway
    os.makedirs(LOCKS, mode=0o700, exist_ok=True)
    start = (os.getpid() * 997) % len(UIDS)
    with _held_lock:
        for step in range(len(UIDS)):
            uid = UIDS[(start + step) % len(UIDS)]
            if uid in _held:
                continue
            fd = os.open(os.path.join(LOCKS, f"{uid}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            _held[uid] = fd
            return uid
    raise RuntimeError(f"no free sandbox user id in {UIDS}")


def release_uid(uid):
    with _held_lock:
        fd = _held.pop(uid, None)
    if fd is not None:
        os.close(fd)


@dataclass
class Limits:
    """Resource limits of one sandbox."""
    memory_bytes: int = 6 * 2**30     # address space of each process (TensorFlow maps a lot of it)
    cpu_seconds: int = 600
    file_bytes: int = 64 * 2**20      # largest file it may write
    open_files: int = 256
    processes: int = 128              # per sandbox: its cgroup, and its own user id (as root)
    sandbox_memory_bytes: int = 4 * 2**30   # all its processes together, and its tmpfs (a cgroup, where there is one)
    work_bytes: int = 256 * 2**20     # its working folder, a tmpfs of its own


# --- one cgroup per sandbox: memory and process count of the whole sandbox ------------------------

def cgroup_roots():
    """{controller: folder} where this process may make sandbox cgroups: cgroup v2 if it has the
    memory and pids controllers, else the v1 memory and pids hierarchies; {} if none is writable
    (then only the per-process limits and the per-user process count hold: see README)."""
    if os.geteuid() != 0 or not os.path.isdir("/sys/fs/cgroup"):
        return {}
    own = {}
    try:
        for line in open("/proc/self/cgroup"):
            number, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in (controllers.split(",") if controllers else ["unified"]):
                own[controller] = path
    except OSError:
        return {}
    v2 = "/sys/fs/cgroup/cgroup.controllers"
    if os.path.exists(v2) and {"memory", "pids"} <= set(open(v2).read().split()):
        return _writable({"unified": "/sys/fs/cgroup" + own.get("unified", "/")})
    return _writable({c: f"/sys/fs/cgroup/{c}" + own.get(c, "/") for c in ("memory", "pids")
                      if os.path.exists(f"/sys/fs/cgroup/{c}/cgroup.procs")}, need=2)


def _writable(roots, need=1):
    roots = {c: p for c, p in roots.items() if os.access(p, os.W_OK)}
    return roots if len(roots) >= need else {}


def make_cgroups(name, limits):
    """Make the cgroups of one sandbox (none when there is no writable hierarchy); return their folders."""
    made = []
    for controller, parent in cgroup_roots().items():
        folder = os.path.join(parent, name)
        try:
            remove_cgroup(folder)                       # left over by a grader that was killed
            os.mkdir(folder)
            made.append(folder)
            if controller == "unified":
                _write(folder, "memory.max", limits.sandbox_memory_bytes)
                _write(folder, "memory.swap.max", 0, optional=True)
                _write(folder, "pids.max", limits.processes)
            elif controller == "memory":
                _write(folder, "memory.limit_in_bytes", limits.sandbox_memory_bytes)
                _write(folder, "memory.memsw.limit_in_bytes", limits.sandbox_memory_bytes, optional=True)
            else:
                _write(folder, "pids.max", limits.processes)
        except OSError:
            for done in made:
                remove_cgroup(done)
            return []
    return made


def _write(folder, name, value, optional=False):
    try:
        with open(os.path.join(folder, name), "w") as file:
            file.write(str(value))
    except OSError:
        if not optional:
            raise


def remove_cgroup(folder):
    """Kill what is left in the cgroup `folder` and remove it (nothing if it does not exist)."""
    if not os.path.isdir(folder):
        return
    for attempt in range(50):
        try:
            os.rmdir(folder)
            return
        except OSError:
            pass
        if os.path.exists(os.path.join(folder, "cgroup.kill")):
            _write(folder, "cgroup.kill", 1, optional=True)
        else:
            try:
                for pid in open(os.path.join(folder, "cgroup.procs")).read().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
            except OSError:
                pass
        threading.Event().wait(0.02 * (attempt + 1))


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


# --- the allow-list: what a NumPy task's kernel may import ----------------------------------------

ALLOWED = ("numpy", "matplotlib", "ipykernel")   # with their dependencies (ipykernel's are the kernel's own)
_allow_lock, _allow_cache = threading.Lock(), {}


def _key(name):
    import re
    return re.sub(r"[-_.]+", "-", name).lower()


def allowed_distributions(roots=ALLOWED):
    """The installed distributions `roots` and everything they require (markers evaluated here,
    no extras): the packages a NumPy task's kernel may import, besides the standard library."""
    import importlib.metadata as metadata
    from packaging.requirements import Requirement
    found, todo = {}, list(roots)
    while todo:
        name = todo.pop()
        if _key(name) in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[_key(name)] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return found


def site_packages():
    """The real path of the venv's site-packages (where the allowed distributions are)."""
    import sysconfig
    return os.path.realpath(sysconfig.get_paths()["purelib"])


def other_package_folders():
    """Real paths of the other folders where Python finds installed packages: the base Python's
    site-packages and the system's dist-packages (a student may put them on sys.path)."""
    import glob
    import sysconfig
    folders = {os.path.realpath(sysconfig.get_paths(vars={"base": base, "platbase": base})[key])
               for base in (sys.base_prefix, sys.prefix) for key in ("purelib", "platlib")}
    for pattern in ("/usr/lib/python3*/dist-packages", "/usr/lib/python3*/site-packages",
                    "/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages"):
        folders.update(os.path.realpath(p) for p in glob.glob(pattern))
    return sorted(f for f in folders - {site_packages()} if os.path.isdir(f))


def allowlist_site(roots=ALLOWED):
    """A site-packages folder holding only the allowed distributions (hard links to the venv's
    files, made once per set of versions, beside the venv's own site-packages): it is mounted, in
    a NumPy task's sandbox, over the venv's site-packages at every path the venv is seen by."""
    with _allow_lock:
        if roots in _allow_cache:
            return _allow_cache[roots]
        import hashlib
        import importlib.metadata as metadata
        dists = allowed_distributions(roots)
        site = site_packages()
        digest = hashlib.sha256(repr(sorted((k, d.version) for k, d in dists.items())).encode()).hexdigest()[:16]
        folder = os.path.join(os.path.dirname(site), f"grader-allowlist-{digest}")
        if not os.path.exists(os.path.join(folder, ".complete")):
            owners = {}
            for dist in metadata.distributions(path=[site]):
                for file in dist.files or []:
                    if file.parts and file.parts[0] != "..":
                        owners.setdefault(file.parts[0], set()).add(_key(dist.metadata["Name"] or ""))
            allowed_keys = set(dists)
            building = f"{folder}.{os.getpid()}"
            shutil.rmtree(building, ignore_errors=True)
            os.makedirs(building)
            modules, linked = set(), set()
            for key, dist in dists.items():
                for file in dist.files or []:
                    if not file.parts or file.parts[0] in ("..", "__pycache__"):
                        continue
                    top = file.parts[0]
                    if len(file.parts) == 1 and top.endswith(".py"):
                        modules.add(top[:-3])
                    if owners.get(top, set()) <= allowed_keys:
                        if top not in linked:
                            linked.add(top)
                            _link_tree(os.path.join(site, top), os.path.join(building, top))   # the whole folder
                    else:   # shared with a package that is not allowed: only this distribution's files
                        _link_tree(os.path.join(site, *file.parts), os.path.join(building, *file.parts))
            cache = os.path.join(site, "__pycache__")
            if os.path.isdir(cache):
                for name in os.listdir(cache):
                    if name.split(".")[0] in modules:
                        _link_tree(os.path.join(cache, name), os.path.join(building, "__pycache__", name))
            open(os.path.join(building, ".complete"), "w").close()
            try:
                os.rename(building, folder)
            except OSError:                      # another grader made it meanwhile
                shutil.rmtree(building, ignore_errors=True)
        _allow_cache[roots] = folder
        return folder


def _link_tree(source, target):
    """Hard-link (or copy, across file systems) the file or folder `source` to `target`."""
    if os.path.lexists(target) and not os.path.isdir(target):
        return
    if os.path.islink(source) or os.path.isfile(source):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.islink(source):
            os.symlink(os.readlink(source), target)
            return
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
        return
    if not os.path.isdir(source):
        return
    for top, dirs, files in os.walk(source):
        destination = os.path.join(target, os.path.relpath(top, source))
        os.makedirs(destination, exist_ok=True)
        for name in files:
            _link_tree(os.path.join(top, name), os.path.join(destination, name))


def allowlist_mounts(allowed):
    """Mount lines that replace, at every path the sandbox sees them by, the venv's site-packages
    with the allow-list folder `allowed`, and every other package folder with an empty one."""
    site, lines = site_packages(), []
    covered = [(site, allowed)] + [(other, None) for other in other_package_folders()]
    for folder, replacement in covered:
        for source, target in readonly_mounts():
            real = os.path.realpath(source)
            if folder != real and not folder.startswith(real.rstrip("/") + "/"):
                continue
            seen = f'"$R"{shlex.quote(target.rstrip("/") + folder[len(real.rstrip("/")):])}'
            if source == target and os.path.islink(source):
                continue                       # a link inside the sandbox to a folder covered already
            if replacement is None:
                lines += [f"mount -t tmpfs -o size=16k,mode=755,ro empty {seen}"]
            else:
                lines += [f"mount --bind {shlex.quote(replacement)} {seen}", f"mount -o remount,bind,ro {seen}"]
    return lines


def _hide_package(name, folder):
    """Mount lines that put, over the package's folder, one that holds only an __init__.py raising
    ModuleNotFoundError: the package is not there, whatever import trick is tried."""
    stub = (f"raise ModuleNotFoundError(\"No module named '{name}': it is not available when this "
            f"assignment is graded\", name={name!r})\n")
    target = f'"$R"{shlex.quote(folder)}'
    return [f"mkdir -p {target}", f"mount -t tmpfs -o size=64k,mode=755 hidden {target}",
            f"printf '%s' {shlex.quote(stub)} > {target}/__init__.py", f"mount -o remount,ro {target}"]


def _mount_script(root, workdir, limits, command, uid, hidden=(), sockets=None, cgroups=(), allowed=None):
    """The shell script run as (namespace) root inside the new namespaces: join the sandbox's
    cgroups, build the filesystem in a tmpfs at `root`, chroot into it, drop privileges and limit
    resources, exec `command`."""
    lines = ["set -eu"] + [f"echo 0 > {shlex.quote(os.path.join(folder, 'cgroup.procs'))}" for folder in cgroups]
    lines += [f"R={shlex.quote(root)}",
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
    # the working folder: a tmpfs of its own, of bounded size, that only this mount namespace sees
    # (it vanishes with the sandbox); the kernel's sockets live in `sockets`, bound from outside
    owner = f",uid={uid},gid={uid}" if os.geteuid() == 0 else ""
    lines += [f'mkdir -p "$R"{shlex.quote(workdir)}',
              f'mount -t tmpfs -o size={limits.work_bytes},mode=700{owner} work "$R"{shlex.quote(workdir)}']
    if sockets:
        lines += [f'mkdir -p "$R"{shlex.quote(sockets)}',
                  f'mount --bind {shlex.quote(sockets)} "$R"{shlex.quote(sockets)}']
    for name, folder in hidden:
        lines += _hide_package(name, folder)
    if allowed:
        lines += allowlist_mounts(allowed)
    setpriv, prlimit = shutil.which("setpriv"), shutil.which("prlimit")
    drop = (f"{setpriv} --reuid={uid} --regid={uid} --clear-groups --no-new-privs --inh-caps=-all "
            if os.geteuid() == 0 else f"{setpriv} --no-new-privs ")
    limit = (f"{prlimit} --as={limits.memory_bytes} --cpu={limits.cpu_seconds} --fsize={limits.file_bytes} "
             f"--nofile={limits.open_files} --nproc={limits.processes} --core=0 -- ")
    inside = "cd " + shlex.quote(workdir) + " && exec " + drop + limit + shlex.join(command)
    lines.append(f'exec {shutil.which("chroot")} "$R" /bin/sh -c {shlex.quote(inside)}')
    return "\n".join(lines)


def wrap(command, workdir, root, limits=None, uid=NOBODY, hidden=(), sockets=None, cgroups=(), allowed=None):
    """The argv that runs `command` (a list) sandboxed, in `workdir`, a size-limited tmpfs seen
    only inside the sandbox (at that path). `root` must be an empty directory for the sandbox's own
    filesystem; `sockets`, a folder of the host bound at the same path (the kernel's sockets and
    connection file). `hidden`: (package name, folder) pairs from package_locations, which the
    sandbox does not have; `allowed`: a folder from allowlist_site, which replaces every
    site-packages it could import from; `cgroups`: folders from make_cgroups, which it joins first. Killing the
    returned process kills everything inside (PID namespace)."""
    limits = limits or Limits()
    namespaces = ["--mount", "--pid", "--fork", "--net", "--ipc", "--uts", "--kill-child"]
    if os.geteuid() != 0:
        namespaces.insert(0, "--map-root-user")
        namespaces.insert(0, "--user")
    script = _mount_script(os.path.abspath(root), os.path.abspath(workdir), limits, command, uid, hidden,
                           sockets and os.path.abspath(sockets), cgroups, allowed)
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
        probe = wrap([sys.executable, "-c", "open('probe', 'w').write('ok'); print(open('probe').read())"], work, root)
        result = subprocess.run(probe, capture_output=True, text=True, timeout=60)
        if result.returncode != 0 or result.stdout.strip() != "ok":
            return f"making a sandbox failed here: {result.stderr.strip()[-500:] or result.returncode}"
        return None
    finally:
        shutil.rmtree(base, ignore_errors=True)
