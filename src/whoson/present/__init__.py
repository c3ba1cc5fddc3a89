"""Presenting a report: tables, frames, plots, SVG charts, text, Markdown and HTML.

Everything here reads a report through :meth:`whoson.metrics.report.Report.to_dict`,
so sections other developers add to the report (``breakdown``, ``pages``,
``change``, ``experiments``, ``support.wait``) show up without special code.
Optional packages (pandas, pyarrow, matplotlib) are imported only inside the
functions that need them.
"""

from whoson.present.tables import TABLES, Table, report_table, table_names

__all__ = ["TABLES", "Table", "report_table", "table_names"]
