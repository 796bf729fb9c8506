"""The writable layer's image: a sparse copy of a template made once per size (no mkfs per sandbox)."""

from __future__ import annotations

import os
import subprocess

import pytest

from skillspark.sandbox.storage import copy_sparse, mount_loop, template_image


def test_sparse_copy_keeps_data_and_holes(tmp_path):
    source, copy = tmp_path / "source.img", tmp_path / "copy.img"
    with open(source, "wb") as fh:
        fh.truncate(64 << 20)
        fh.seek(1 << 20)
        fh.write(b"a" * 5000)
        fh.seek(40 << 20)
        fh.write(b"b" * 100)
    copy_sparse(source, copy)
    assert copy.read_bytes() == source.read_bytes()
    assert copy.stat().st_blocks * 512 < 1 << 20  # the 64 MiB file stays sparse
    with pytest.raises(FileExistsError):
        copy_sparse(source, copy)  # never writes over an existing file


@pytest.mark.skipif(os.getuid() != 0, reason="loop devices need host root")
def test_template_is_made_once_and_copies_mount_on_their_own(tmp_path):
    template = template_image(tmp_path / "templates", 64)
    made = template.stat().st_mtime_ns
    assert template_image(tmp_path / "templates", 64) == template and template.stat().st_mtime_ns == made
    mounts = []
    for name in ("one", "two"):
        image, point = tmp_path / f"{name}.img", tmp_path / name
        point.mkdir()
        copy_sparse(template, image)
        mount_loop(image, point)
        mounts.append(point)
    try:
        (mounts[0] / "mine").write_text("one")
        assert not (mounts[1] / "mine").exists()  # each sandbox's layer is its own filesystem
        assert os.statvfs(mounts[1]).f_blocks * os.statvfs(mounts[1]).f_frsize <= 64 << 20
    finally:
        for point in mounts:
            subprocess.run(["umount", "-l", str(point)], check=False)
