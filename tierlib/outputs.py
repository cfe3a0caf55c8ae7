"""How tierlib writes files: atomically, never over what it did not write, one writer at a time.

The guarantees (README "What tierlib guarantees about its outputs"):

- **Atomic publication.** Every output is built under a temporary sibling name (a hidden
  ``.<name>.<random>.tierlib-tmp``), flushed to disk (fsync) and published with one rename.
  A reader sees the previous complete output or the new complete one, never a half-written
  one; a killed run leaves at most a hidden temporary, which the next run removes once its
  owner process is gone.
- **Never delete what tierlib did not write.** A folder is tierlib's own when it holds the
  marker (``_tierlib.json``) written by :func:`atomic_dir` and nothing the marker does not
  list. A single file is tierlib's own when its hidden sidecar ``.<name>.tierlib.json``
  records its current size and modification time. Only ``overwrite=True`` replaces an own
  output; anything else is refused with an :class:`OutputError`.
- **One writer per output.** :func:`output_lock` takes an exclusive ``flock`` on a hidden
  sibling lock file; the kernel releases it when the process ends, however it ends, so a lock
  left by a dead process is never in the way, and a second live run is refused at once.
- **Inputs are safe.** :func:`check_output` refuses an output equal to, inside or containing
  an input, and a missing parent folder (as ``cp`` does; nothing is created).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import secrets
import shutil
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["OutputError", "atomic_file", "atomic_dir", "output_lock", "check_output", "check_target",
           "publish_dir", "MARKER", "fsync_dir", "own_dir"]

#: The marker file of a folder written by tierlib (its manifest).
MARKER = "_tierlib.json"
_TMP = ".tierlib-tmp"


class OutputError(Exception):
    """An output cannot be written safely; the message is one line naming the path and why.

    >>> str(OutputError("out: exists"))
    'out: exists'
    """


def fsync_dir(path: str | Path) -> None:
    """Flush a folder's entries (a rename inside it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for d, _, files in os.walk(root):
        for f in files:
            with open(os.path.join(d, f), "rb") as fh:
                os.fsync(fh.fileno())
        fsync_dir(d)


def _tmp_sibling(path: Path) -> Path:
    return path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{_TMP}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep(path: Path) -> None:
    """Remove temporaries of ``path`` left by dead tierlib processes of this host."""
    for tmp in path.parent.glob(f".{path.name}.*{_TMP}"):
        pid = tmp.name[len(path.name) + 2:].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(tmp) if tmp.is_dir() and not tmp.is_symlink() else tmp.unlink(missing_ok=True)


def _sidecar(path: Path) -> Path:
    return path.parent / f".{path.name}.tierlib.json"


def _stamp(path: Path) -> dict:
    st = path.stat()
    return {"written_by": "tierlib", "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _own_file(path: Path) -> bool:
    try:
        mark = json.loads(_sidecar(path).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(mark, dict) and mark == _stamp(path)


def check_target(path: str | Path, *, overwrite: bool = False, marker: str = MARKER) -> bool:
    """Whether ``path`` may be written: True if it replaces an own output, False if new.

    Raises :class:`OutputError` (one line) for a foreign file or folder, or an own output
    without ``overwrite``.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> check_target(d / "new.parquet")
    False
    >>> (d / "notes.txt").write_text("mine")
    4
    >>> check_target(d, overwrite=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tierlib.outputs.OutputError: ... holds files tierlib did not write (notes.txt); ...
    >>> shutil.rmtree(d)
    """
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        return False
    if p.is_dir() and not p.is_symlink():
        entries = sorted(x.name for x in p.iterdir())
        if not entries:
            return False
        foreign = own_dir(p, marker=marker)
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise OutputError(f"{p} holds files tierlib did not write ({shown}); tierlib never deletes "
                              "them: choose another output folder or move them away")
        if not overwrite:
            raise OutputError(f"{p} holds a previous tierlib output; pass --overwrite (overwrite=True) "
                              "to replace it, or choose another output")
        return True
    if not _own_file(p):
        raise OutputError(f"{p} exists and was not written by tierlib (or was changed since); tierlib "
                          "never overwrites it: choose another output name or move it away")
    if not overwrite:
        raise OutputError(f"{p} holds a previous tierlib output; pass --overwrite (overwrite=True) to replace it")
    return True


def own_dir(path: Path, *, marker: str = MARKER) -> list[str]:
    """Entries of ``path`` that its tierlib marker does not account for ([] = wholly tierlib's).

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> own_dir(d)
    []
    >>> _ = (d / "x.txt").write_text("?")
    >>> own_dir(d)
    ['x.txt']
    >>> shutil.rmtree(d)
    """
    try:
        listed = json.loads((path / marker).read_text()).get("files")
    except (OSError, ValueError, AttributeError):
        listed = None
    entries = sorted(str(f.relative_to(path)) for f in path.rglob("*") if not f.is_dir())
    if not isinstance(listed, list):
        return entries
    allowed = set(listed) | {marker}
    return [e for e in entries if e not in allowed]


@contextlib.contextmanager
def atomic_file(path: str | Path, *, overwrite: bool = False, mark: bool = True) -> Iterator[Path]:
    """Yield a temporary sibling path; on success fsync it and publish it as ``path``.

    On any failure (an exception, Ctrl-C) the temporary is removed and ``path`` is untouched.
    ``path`` may replace only a previous output of tierlib (recognised by its sidecar, written
    when ``mark``) and only with ``overwrite=True``.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with atomic_file(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "a.txt").read_text()
    'hello'
    >>> with atomic_file(d / "a.txt"):  # doctest: +ELLIPSIS
    ...     pass
    Traceback (most recent call last):
    ...
    tierlib.outputs.OutputError: ... holds a previous tierlib output; pass --overwrite ...
    >>> shutil.rmtree(d)
    """
    p = Path(path)
    check_output(p, ())
    check_target(p, overwrite=overwrite)
    _sweep(p)
    tmp = _tmp_sibling(p)
    try:
        yield tmp
        if not tmp.exists():
            raise OutputError(f"{p}: nothing was written")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        check_target(p, overwrite=overwrite)  # again: someone may have written it meanwhile
        os.replace(tmp, p)
        fsync_dir(p.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    if mark:
        side = _sidecar(p)
        side_tmp = _tmp_sibling(side)
        side_tmp.write_text(json.dumps(_stamp(p)))
        os.replace(side_tmp, side)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))


def _remove_own(old: Path, marker: str) -> None:
    """Delete a replaced own folder: only what its marker lists (then its empty folders)."""
    if own_dir(old, marker=marker):  # something appeared that tierlib did not write: keep it all
        return
    shutil.rmtree(old)


def publish_dir(tmp: str | Path, path: str | Path, *, overwrite: bool = False, marker: str = MARKER,
                manifest: dict | None = None) -> None:
    """Publish the finished folder ``tmp`` as ``path`` with one rename.

    Writes the marker ``tmp/marker`` (``manifest`` plus ``written_by`` and the list of files)
    atomically, fsyncs the tree, then renames. A previous own output at ``path`` is swapped
    out atomically (readable until the new one replaces it) and then deleted.
    """
    tmp, p = Path(tmp), Path(path)
    meta = dict(manifest or {})
    if (tmp / marker).exists() and manifest is None:
        meta = json.loads((tmp / marker).read_text())
    meta["written_by"] = "tierlib"
    meta["files"] = sorted(str(f.relative_to(tmp)) for f in tmp.rglob("*") if not f.is_dir()
                           and f.name != marker)
    mark_tmp = tmp / f".{marker}{_TMP}"
    mark_tmp.write_text(json.dumps(meta, indent=1, default=str))
    os.replace(mark_tmp, tmp / marker)
    _fsync_tree(tmp)
    replacing = check_target(p, overwrite=overwrite, marker=marker)
    if not replacing:
        os.rename(tmp, p)  # onto nothing, or onto an empty folder (POSIX allows that)
    elif _exchange(tmp, p):
        _remove_own(tmp, marker)
    else:  # no atomic swap on this system: the shortest possible gap
        old = _tmp_sibling(p)
        os.rename(p, old)
        os.rename(tmp, p)
        _remove_own(old, marker)
    fsync_dir(p.parent)


@contextlib.contextmanager
def atomic_dir(path: str | Path, *, overwrite: bool = False, marker: str = MARKER,
               manifest: dict | None = None) -> Iterator[Path]:
    """Yield a temporary sibling folder to fill; on success publish it as ``path``.

    The marker file lists every file written, which is how tierlib later recognises the folder
    as its own. A non-empty folder not written by tierlib is refused before anything is done;
    a previous tierlib output is replaced only with ``overwrite=True``. On failure the
    temporary is removed and ``path`` keeps its previous content.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with atomic_dir(d / "out") as tmp:
    ...     _ = (tmp / "a.csv").write_text("x\\n1\\n")
    >>> sorted(f.name for f in (d / "out").iterdir())
    ['_tierlib.json', 'a.csv']
    >>> with atomic_dir(d / "out", overwrite=True) as tmp:
    ...     _ = (tmp / "b.csv").write_text("x\\n2\\n")
    >>> sorted(f.name for f in (d / "out").iterdir())
    ['_tierlib.json', 'b.csv']
    >>> shutil.rmtree(d)
    """
    p = Path(path)
    check_output(p, ())
    check_target(p, overwrite=overwrite, marker=marker)
    _sweep(p)
    tmp = _tmp_sibling(p)
    tmp.mkdir()
    try:
        yield tmp
        publish_dir(tmp, p, overwrite=overwrite, marker=marker, manifest=manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def output_lock(path: str | Path) -> Iterator[Path]:
    """Hold an exclusive lock on output ``path`` (a hidden sibling ``.<name>.tierlib-lock``).

    A second process asking for the same output fails at once with an :class:`OutputError`
    naming the holder. The lock is the kernel's (``flock``): it ends with its process, so a
    lock file left by a killed run is stale and simply taken over.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with output_lock(d / "ledger"):
    ...     (d / ".ledger.tierlib-lock").exists()
    True
    >>> shutil.rmtree(d)
    """
    import fcntl

    p = Path(path)
    if not p.parent.is_dir():
        raise OutputError(f"{p.parent} does not exist (tierlib does not create it)")
    lock = p.parent / f".{p.name}.tierlib-lock"
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise OutputError(f"{p} is being written by another tierlib run ({holder}); "
                              "wait for it to finish or choose another output") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the file was replaced while we waited: lock the current one
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode(), 0)
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
        os.close(fd)


def _real(p: str | Path) -> Path:
    return Path(os.path.realpath(Path(p).expanduser()))


def check_output(out: str | Path, inputs: Iterable[str | Path]) -> Path:
    """Refuse an output equal to, inside or containing an input, or whose parent is missing.

    Returns ``out`` resolved (symlinks followed).

    >>> check_output("/no/such/dir/x.parquet", [])
    Traceback (most recent call last):
    ...
    tierlib.outputs.OutputError: /no/such/dir does not exist (tierlib does not create it); create it first
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> check_output(d / "panel" / "ledger", [d / "panel"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tierlib.outputs.OutputError: output .../panel/ledger lies inside the input .../panel; ...
    >>> shutil.rmtree(d)
    """
    o = _real(out)
    for i in inputs:
        r = _real(i)
        if o == r:
            raise OutputError(f"output {out} is the input {i}; tierlib never writes over its input")
        if r in o.parents:
            raise OutputError(f"output {out} lies inside the input {i}; a later run would read it as "
                              "input: choose an output outside it")
        if o in r.parents:
            raise OutputError(f"output {out} contains the input {i}; choose an output that does not hold it")
    parent = Path(out).expanduser().parent
    if not parent.is_dir():
        raise OutputError(f"{parent} does not exist (tierlib does not create it); create it first")
    return o
