"""Results folders: the one place that writes and reads them.

Kinds: ``run`` (summary, replications, backlog, cases), ``compare`` (the long table and one
run sub-folder per scenario), ``sweep``, ``staff`` (frontier and chosen staffing) and
``sensitivity`` and ``calibration`` (fit table and overlay YAML). Every ``manifest.json`` states ``kind`` and ``format_version``.
Nothing heavy is imported here: pandas and pyarrow load when a table is written or read.
"""

from .atomic import (
                    OutputExists,
                    UnsafePath,
                    atomic_dir,
                    atomic_write_bytes,
                    atomic_write_json,
                    atomic_write_text,
                    inside,
                    output_lock,
                    remove_leftovers,
)
from .read import (
                    DamagedResults,
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
                    publish,
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

__all__ = ["FORMAT_VERSION", "KINDS", "DamagedResults", "NotResults", "OutputExists", "ResultsFolder", "RunFolder",
           "UnsafePath", "atomic_dir", "atomic_write_bytes", "atomic_write_json", "atomic_write_text", "case_spool",
           "check_new", "folder_kind", "inside", "manifest", "output_lock", "package_versions", "prepare_out",
           "publish", "read_folder", "read_json", "read_table", "remove_leftovers",
           "write_calibration", "write_cases", "write_compare", "write_failures", "write_run", "write_sensitivity", "write_staff",
           "write_sweep", "write_table"]
