"""Read a CSV argument with the stdlib ``csv`` module: columns, a header, names of rows."""

from __future__ import annotations

import csv
import io

import numpy as np

from klkit.cli._values import InputError, Table, is_number, max_values, quote, read_number, too_many

# --- CSV ------------------------------------------------------------------------------------


def _csv_rows(text: str, *, name: str, source: str) -> list[tuple[int, list[str]]]:
    rows: list[tuple[int, list[str]]] = []
    count = 0
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if any(c.strip() for c in row):
                count += len(row)
                if count > max_values():
                    raise too_many(name, source, "more than that")
                rows.append((reader.line_num, row))
    except csv.Error as e:
        msg = (
            f"{name}: line {reader.line_num} of {source} is not valid CSV ({quote(str(e))}); "
            "write numbers separated by commas, one row per line."
        )
        raise InputError(msg) from None
    return rows


def read_csv(text: str, *, name: str, source: str, column: str | None, samples: bool) -> Table:
    lines = _csv_rows(text, name=name, source=source)
    if not lines:
        msg = f"{name}: {source} is empty; write one number per line, or a header and columns."
        raise InputError(msg)

    first_line, first = lines[0]
    has_header = not all(is_number(c) for c in first if c.strip())
    header = [c.strip() for c in first] if has_header else None
    body = lines[1:] if has_header else lines
    width = len(header) if header is not None else len(body[0][1])
    for n, row in body:
        if len(row) != width:
            msg = (
                f"{name}: line {n} of {source} has {len(row)} cells but line "
                f"{first_line if header else body[0][0]} has {width}; give every row the "
                "same columns."
            )
            raise InputError(msg)
    if not body:
        msg = f"{name}: {source} has a header but no rows of numbers."
        raise InputError(msg)
    labels = header or [f"column {j + 1}" for j in range(width)]
    text_columns = [
        j for j in range(width) if not all(is_number(row[j]) for _, row in body if row[j].strip())
    ]
    numbers = [j for j in range(width) if j not in text_columns]
    row_names = tuple(row[text_columns[0]].strip() for _, row in body) if text_columns else None

    def read_column(j: int) -> list[float]:
        return [
            read_number(
                row[j], name=name, where=f"line {n}, column {quote(labels[j])} of {source},"
            )
            for n, row in body
        ]

    if column is not None:
        if header is None:
            msg = (
                f"{name}: {source} has no header line, so it has no column {quote(column)}; "
                "add a first line naming the columns."
            )
            raise InputError(msg)
        if column not in header:
            shown = ", ".join(quote(h, 30) for h in header[:12])
            more = f" and {len(header) - 12} more" if len(header) > 12 else ""
            msg = f"{name}: {source} has no column {quote(column)}; its columns are {shown}{more}."
            raise InputError(msg)
        j = header.index(column)
        if j in text_columns:
            if samples:
                return Table(np.array([row[j].strip() for _, row in body if row[j].strip()]))
            bad = next(row[j] for _, row in body if row[j].strip() and not is_number(row[j]))
            msg = (
                f"{name}: column {quote(column)} of {source} holds text ({quote(bad.strip())}), "
                "not numbers; pick a numeric column (text is read as labels with --samples)."
            )
            raise InputError(msg)
        others = [t for t in text_columns if t != j]
        names = tuple(row[others[0]].strip() for _, row in body) if others else None
        return Table(np.array(read_column(j), dtype=np.float64), row_names=names)
    if samples and width == 1 and text_columns:
        return Table(np.array([row[0].strip() for _, row in body if row[0].strip()]))
    if not numbers:
        hint = "; name the column of labels, as in FILE.csv:column" if samples else ""
        msg = f"{name}: {source} has no numeric column; its columns hold text only{hint}."
        raise InputError(msg)
    columns = [read_column(j) for j in numbers]
    if len(numbers) == 1:
        return Table(np.array(columns[0], dtype=np.float64), row_names=row_names)
    if len(body) == 1:  # one row of numbers: one distribution across the columns
        names = tuple(labels[j] for j in numbers) if header else None
        return Table(np.array([c[0] for c in columns], dtype=np.float64), row_names=names)
    return Table(
        np.array(columns, dtype=np.float64).T,
        row_names=row_names,
        column_names=tuple(labels[j] for j in numbers) if header else None,
    )
