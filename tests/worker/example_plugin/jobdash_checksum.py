"""A jobdash job type: the checksum of every file in a folder."""

import hashlib
from pathlib import Path

from jobdash import JobContext, job_type


@job_type(target="directory", description="Checksum every file in a folder")
def checksum(ctx: JobContext) -> dict:
    algorithm = ctx.params.get("algorithm", "sha256")
    files = sorted(path for path in Path(ctx.target).rglob("*") if path.is_file())
    for done, path in enumerate(files, 1):
        ctx.log(f"{hashlib.new(algorithm, path.read_bytes()).hexdigest()}  {path}")
        ctx.progress(done, len(files), unit="files")
    return {"files": len(files), "algorithm": algorithm}
