"""Collection artifacts (tarballs) of the collections the `ansible` package carries, for an offline install.

No Galaxy server is reachable from the test machines, so `ansible-galaxy collection install` cannot fetch this
collection's dependencies. The `ansible` package from PyPI installs them as directories (each with its MANIFEST.json
and FILES.json); packing one back into the artifact format `ansible-galaxy collection build` writes lets the install
resolve the tarball's own `dependencies` offline, as a user with a local mirror would.
"""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def pack(installed: Path, out_dir: Path, version: str = "") -> Path:
    """Pack the installed collection at `installed` into out_dir/NAMESPACE-NAME-VERSION.tar.gz.

    Only the files FILES.json lists and the directory holds go in (the package leaves out some, e.g. .github);
    FILES.json is written anew with them and MANIFEST.json's checksum of it follows. `version` stands in for the
    collection's own (to test a dependency's range).
    """
    manifest = json.loads((installed / "MANIFEST.json").read_text())
    files = json.loads((installed / "FILES.json").read_text())
    kept = [f for f in files["files"] if f["name"] == "." or (installed / f["name"]).exists()]
    files["files"] = kept
    files_json = json.dumps(files, indent=4).encode()
    manifest["file_manifest_file"]["chksum_sha256"] = hashlib.sha256(files_json).hexdigest()
    info = manifest["collection_info"]
    info["version"] = version or info["version"]
    out = out_dir / f"{info['namespace']}-{info['name']}-{info['version']}.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        _add(tar, "MANIFEST.json", json.dumps(manifest, indent=4).encode())
        _add(tar, "FILES.json", files_json)
        for entry in kept:
            if entry["name"] == ".":
                continue
            path = installed / entry["name"]
            if entry["ftype"] == "dir":
                dir_info = tarfile.TarInfo(entry["name"])
                dir_info.type = tarfile.DIRTYPE
                dir_info.mode = 0o755
                tar.addfile(dir_info)
            else:
                tar.add(path, arcname=entry["name"], recursive=False)
    return out


def dependencies(root: Path, names: list[str], out_dir: Path) -> list[Path]:
    """Artifacts of the collections `names` ("namespace.name") found under root/ansible_collections."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [pack(root / "ansible_collections" / Path(*name.split(".")), out_dir) for name in names]
