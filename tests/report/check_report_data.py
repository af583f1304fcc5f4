#!/usr/bin/python3
"""Checks a run's report directory against docs/schema/ with a standard
validator (Debian's python3-jsonschema), as a warehouse load would read it:

  - report.json validates against report.schema.json, each findings.jsonl and
    corrections.jsonl line against finding/correction.schema.json;
  - every line and every findings.csv row carries the report's run_id and
    window (window_start, window_end), the same as report.json's run;
  - the schemas have teeth: a real line (and report.json) with any one
    required member removed must fail validation.

Usage: check_report_data.py SCHEMA_DIR REPORT_DIR [--min-findings N] [--min-corrections N]
Exit:  0 pass, 1 a check failed, 2 usage.
"""
import copy
import csv
import json
import pathlib
import sys

try:
    import jsonschema
except ImportError:  # the check is the point: no silent skip
    print("FAIL: python3-jsonschema is not installed (apt-get install python3-jsonschema)", file=sys.stderr)
    sys.exit(1)


def main(argv):
    args = argv[1:]
    mins = {"--min-findings": 0, "--min-corrections": 0}
    while len(args) > 2 and args[-2] in mins:
        mins[args[-2]] = int(args[-1])
        args = args[:-2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    schema_dir, report_dir = pathlib.Path(args[0]), pathlib.Path(args[1])
    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in schema_dir.glob("*.schema.json")}
    store = {s["$id"]: s for s in schemas.values()}
    for s in schemas.values():
        jsonschema.Draft202012Validator.check_schema(s)

    def validator(name):
        s = schemas[name]
        resolver = jsonschema.RefResolver(base_uri=s["$id"], referrer=s, store=store)
        return jsonschema.Draft202012Validator(s, resolver=resolver)

    errors = []

    def validate(v, doc, what):
        for e in sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            errors.append(f"{what}: {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}")

    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    v_report, v_finding, v_correction = (validator(n) for n in
                                         ("report.schema.json", "finding.schema.json", "correction.schema.json"))
    validate(v_report, report, "report.json")
    run = report.get("run", {})
    stamp = {"run_id": run.get("id"), "window_start": run.get("window", {}).get("start"),
             "window_end": run.get("window", {}).get("end")}

    lines = {}
    for name, v in (("findings.jsonl", v_finding), ("corrections.jsonl", v_correction)):
        lines[name] = []
        for n, text in enumerate((report_dir / name).read_text(encoding="utf-8").splitlines(), 1):
            if not text.strip():
                continue
            item = json.loads(text)
            lines[name].append(item)
            validate(v, item, f"{name}:{n}")
            for k, want in stamp.items():
                if item.get(k) != want:
                    errors.append(f"{name}:{n}: {k} is {item.get(k)!r}, the run's is {want!r}")
    if len(lines["findings.jsonl"]) < mins["--min-findings"]:
        errors.append(f"findings.jsonl has {len(lines['findings.jsonl'])} lines, expected >= {mins['--min-findings']}")
    if len(lines["corrections.jsonl"]) < mins["--min-corrections"]:
        errors.append(f"corrections.jsonl has {len(lines['corrections.jsonl'])} lines, "
                      f"expected >= {mins['--min-corrections']}")

    with open(report_dir / "findings.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != len(lines["findings.jsonl"]):
        errors.append(f"findings.csv has {len(rows)} rows, findings.jsonl {len(lines['findings.jsonl'])} lines")
    for n, row in enumerate(rows, 2):
        for k, want in stamp.items():
            if row.get(k) != str(want):
                errors.append(f"findings.csv:{n}: {k} is {row.get(k)!r}, the run's is {want!r}")

    # Teeth: each required member, removed from a real document, fails it.
    def must_require(v, doc, member, what):
        """Removes each required member of doc (or of doc[member]) in turn: each must fail."""
        schema = v.schema if member is None else v.schema["properties"][member]
        for key in schema.get("required", []):
            broken = copy.deepcopy(doc)
            target = broken if member is None else broken[member]
            if key not in target:
                continue  # already reported by the validation above
            del target[key]
            if v.is_valid(broken):
                errors.append(f"{what}: the schema accepts a document without required member {key!r}")

    for name, v in (("findings.jsonl", v_finding), ("corrections.jsonl", v_correction)):
        if lines[name]:
            must_require(v, lines[name][0], None, f"{name} line 1")
    must_require(v_report, report, None, "report.json")
    must_require(v_report, report, "run", "report.json run")
    must_require(v_report, report, "totals", "report.json totals")

    for e in errors[:50]:
        print("FAIL:", e, file=sys.stderr)
    if len(errors) > 50:
        print(f"FAIL: ... and {len(errors) - 50} more", file=sys.stderr)
    if errors:
        return 1
    print(f"ok: {report_dir} matches docs/schema ({len(lines['findings.jsonl'])} findings, "
          f"{len(lines['corrections.jsonl'])} corrections, {len(rows)} csv rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
