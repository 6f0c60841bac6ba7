"""Reads a CSV (Python's csv module) or an .xlsx (openpyxl) the way a spreadsheet user
would get it, and checks that no cell, nor any line of a cell, can start a formula.

    spreadsheet_check.py csv  FILE [EXPECTED.json]
    spreadsheet_check.py xlsx FILE [EXPECTED.json]

EXPECTED.json (CSV only), when given, holds the rows as they were handed to the writer (header row
first; strings and integers); every cell read back must then equal that value neutralized
by this file's own rule (written independently of the TypeScript one), and the file must
have exactly that many rows and columns. For CSV, every physical line of the file is also
checked as a reader splitting on line breaks would see it. Prints one JSON object: rows,
cells, numbers (numeric cells, xlsx), failures.
"""
import csv
import json
import re
import sys
import unicodedata

BREAKS = "\r\n\v\f\x85\u2028\u2029"
SIGNS = "=+-@\uff1d\uff0b\uff0d\uff20"
SPLIT = re.compile("[" + re.escape(BREAKS) + "]")
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")


def invisible(ch):
    """Characters a reader may drop or not show before a formula sign."""
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def starts_formula(line):
    if line.startswith("\t"):
        return True
    for ch in line:
        if ch in SIGNS:
            return True
        if not invisible(ch):
            return False
    return False


def neutralized(value):
    """The cell a writer must produce for `value`: an apostrophe before every line that starts a formula."""
    if isinstance(value, int):
        return str(value)
    out = "'" if value[:1] and value[0] in BREAKS else ""
    start = 0
    for brk in SPLIT.finditer(value):
        line = value[start:brk.start()]
        out += ("'" if starts_formula(line) else "") + line + brk.group()
        start = brk.end()
    line = value[start:]
    return out + ("'" if starts_formula(line) else "") + line


def unsafe_lines(text):
    """The lines of a cell that would start a formula (each line is where a splitting reader starts a cell); a number is none."""
    return [line for line in SPLIT.split(text) if starts_formula(line) and not NUMBER.fullmatch(line)]


def read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return [[(cell, None) for cell in row] for row in csv.reader(f)]


def raw_lines(path):
    """Lines of the file as a reader that splits on every line break sees them; such a reader drops a cell's opening quote."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        text = f.read()
    return [line[1:] if line.startswith('"') else line for line in SPLIT.split(text)]


def read_xlsx(path):
    import openpyxl

    book = openpyxl.load_workbook(path)
    rows = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            cells = [(cell.value, cell.data_type) for cell in row]
            while cells and cells[-1][0] is None:
                cells.pop()
            if cells:
                rows.append(cells)
    return rows


def main():
    kind, path = sys.argv[1], sys.argv[2]
    expected = None
    if len(sys.argv) > 3:
        with open(sys.argv[3], encoding="utf-8") as f:
            expected = json.load(f)
    rows = read_csv(path) if kind == "csv" else read_xlsx(path)
    failures = []
    cells = 0
    numbers = 0
    for r, row in enumerate(rows):
        for c, (value, data_type) in enumerate(row):
            cells += 1
            where = {"row": r, "column": c, "cell": value if not isinstance(value, (int, float)) else str(value)}
            if data_type == "n" and isinstance(value, (int, float)):
                numbers += 1
            if data_type == "f":
                failures.append({**where, "problem": "formula cell"})
            if isinstance(value, str):
                if value.startswith("="):
                    failures.append({**where, "problem": "starts with ="})
                bad = unsafe_lines(value) if r > 0 else []
                if bad:
                    failures.append({**where, "problem": "a line starts a formula", "lines": bad})
    if kind == "csv":
        for n, line in enumerate(raw_lines(path)):
            if unsafe_lines(line.split(",", 1)[0]):
                failures.append({"problem": "a physical line starts a formula", "line": n, "text": line[:200]})
    if expected is not None:
        if len(rows) != len(expected):
            failures.append({"problem": "row count", "read": len(rows), "written": len(expected)})
        for r, (got, want) in enumerate(zip(rows, expected)):
            want_cells = [neutralized(v) if r > 0 else v for v in want]
            got_cells = [v for v, _ in got]
            if got_cells != want_cells:
                failures.append({"problem": "cells differ", "row": r, "read": got_cells, "expected": want_cells})
    json.dump({"rows": len(rows), "cells": cells, "numbers": numbers, "failures": failures[:20], "failureCount": len(failures)}, sys.stdout)


main()
