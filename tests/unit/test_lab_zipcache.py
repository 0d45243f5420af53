"""tests/lab/image/etcd_ops_lab_zipcache.py, the lab image's cache of the code compiled from modules' payloads: a
payload's source is compiled once and then loaded with the importing zip's file names; another zip, a damaged
entry and a dir that is not the user's alone go the plain way. Each case runs in a Python of its own, as a member's
module run does."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

IMAGE = Path(__file__).resolve().parents[2] / "tests" / "lab" / "image"
SOURCE = "def answer():\n    return 42\n\n\ndef where():\n    return answer.__code__.co_filename\n"

# install the cache on TOP, optionally make a compile fail, import mod from ZIP, print what it gives
RUN = """
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, {image!r})
import etcd_ops_lab_zipcache as cache
print(cache.install({top!r}))
if {no_compile!r}:
    def refuse(*args):
        raise RuntimeError("compiled")
    cache._compile = refuse
sys.path.insert(0, {zip!r})
import mod
print(mod.answer(), mod.where())
"""


def make_zip(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mod.py", SOURCE)
    return path


def run(top: Path, zip_path: Path, no_compile: bool = False) -> subprocess.CompletedProcess:
    code = RUN.format(image=str(IMAGE), top=str(top), zip=str(zip_path), no_compile=no_compile)
    return subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False)


def user_dir(top: Path) -> Path:
    return top / str(os.geteuid())


def entries(top: Path) -> list[str]:
    return sorted(p.name for p in user_dir(top).iterdir())


def test_a_payload_source_compiles_once_then_loads_with_the_new_zip_s_names(tmp_path):
    top = tmp_path / "cache"
    top.mkdir()
    first = make_zip(tmp_path / "a" / "ansible_x_payload.zip")
    out = run(top, first)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["True", f"42 {first}{os.sep}mod.py"]
    assert len(entries(top)) == 1 and user_dir(top).stat().st_mode & 0o777 == 0o700
    # another run's payload: loaded from the cache (a compile would fail), with its own file names
    second = make_zip(tmp_path / "b" / "ansible_x_payload.zip")
    out = run(top, second, no_compile=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[1] == f"42 {second}{os.sep}mod.py"


def test_another_zip_is_compiled_as_on_any_host(tmp_path):
    top = tmp_path / "cache"
    top.mkdir()
    out = run(top, make_zip(tmp_path / "etcd-ops-job.zip"))
    assert out.returncode == 0, out.stderr
    assert entries(top) == []
    out = run(top, make_zip(tmp_path / "again" / "etcd-ops-job.zip"), no_compile=True)
    assert out.returncode != 0 and "RuntimeError: compiled" in out.stderr


def test_a_damaged_entry_is_compiled_again_and_replaced(tmp_path):
    top = tmp_path / "cache"
    top.mkdir()
    assert run(top, make_zip(tmp_path / "a" / "ansible_x_payload.zip")).returncode == 0
    (entry,) = entries(top)
    (user_dir(top) / entry).write_bytes(b"\x00not code")
    out = run(top, make_zip(tmp_path / "b" / "ansible_x_payload.zip"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[1].startswith("42 ")
    assert (user_dir(top) / entry).read_bytes() != b"\x00not code"


def test_off_without_the_dir_or_when_the_user_s_dir_is_not_its_own_alone(tmp_path):
    out = run(tmp_path / "absent", make_zip(tmp_path / "a" / "ansible_x_payload.zip"))
    assert out.stdout.split("\n")[0] == "False"
    top = tmp_path / "cache"
    user_dir(top).mkdir(parents=True, mode=0o700)
    user_dir(top).chmod(0o770)
    out = run(top, make_zip(tmp_path / "b" / "ansible_x_payload.zip"))
    assert out.stdout.split("\n")[0] == "False"
    assert entries(top) == []
