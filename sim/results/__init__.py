"""Results folders: the one place that writes and reads them.

Kinds: ``run`` (summary, replications, backlog, cases), ``compare`` (the long table and one
run sub-folder per scenario), ``sweep``, ``staff`` (frontier and chosen staffing) and
``sensitivity`` and ``calibration`` (fit table and overlay YAML). Every ``manifest.json`` states ``kind`` and ``format_version``.
Nothing heavy is imported here: pandas and pyarrow load when a table is written or read.
"""

from .atomic import (
                    OutputExists,
                    atomic_dir,
                    atomic_write_bytes,
                    atomic_write_json,
                    atomic_write_text,
)
from .read import (
                    NotResults,
                    ResultsFolder,
                    RunFolder,
                    read_folder,
                    read_json,
                    read_table,
)
from .write import (
                    FORMAT_VERSION,
                    KINDS,
                    case_spool,
                    check_new,
                    folder_kind,
                    manifest,
                    package_versions,
                    prepare_out,
                    write_calibration,
                    write_cases,
                    write_compare,
                    write_failures,
                    write_run,
                    write_sensitivity,
                    write_staff,
                    write_sweep,
                    write_table,
)

__all__ = ["FORMAT_VERSION", "KINDS", "NotResults", "OutputExists", "ResultsFolder", "RunFolder",
           "atomic_dir", "atomic_write_bytes", "atomic_write_json", "atomic_write_text", "case_spool", "check_new",
           "folder_kind", "manifest", "package_versions", "prepare_out", "read_folder", "read_json", "read_table",
           "write_calibration", "write_cases", "write_compare", "write_failures", "write_run", "write_sensitivity", "write_staff",
           "write_sweep", "write_table"]
