#!/usr/bin/env python3
"""Build the shipped GPU price/spec catalogue (CSV files under estimates/catalog/).

Run by a developer from the repository root:

    python scripts/build_catalog.py

Inputs (read only here, never by the app at run time):
  * /work/shared/reference/ (override with COSTSITE_REFERENCE_DIR): the public reference
    bundle (SkyPilot catalogue subsets, accelerator specs, ...), see its SOURCES.md;
  * estimates/catalog/sources/skypilot_v8_{aws,gcp}_vms_excerpt.csv: further rows of the
    *same* upstream SkyPilot files/commits as the reference subsets (GpuInfo column dropped,
    otherwise verbatim), transcribed from the stored upstream file;
  * estimates/catalog/extra_sources.csv: hand-collected figures, one per row, each with a
    source and an as_of date.

Outputs: regions.csv, accelerators.csv, instance_types.csv, prices.csv, storage_rates.csv,
egress_rates.csv and COVERAGE.md in estimates/catalog/.  Standard library only; the output is
deterministic (sorted rows, fixed number formatting, no timestamps) and the script ends with a
self-check that exits non-zero on any problem.
"""

from __future__ import annotations

import csv
import os
import re
import statistics
import sys
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "estimates" / "catalog"
SOURCES_DIR = CATALOG / "sources"
REF = Path(os.environ.get("COSTSITE_REFERENCE_DIR", "/work/shared/reference"))

# Ship AWS/Azure commit_3y rows derived from the providers' published *maximum* discount
# ("up to 72%").  They are lower bounds on the real 3-year price; set to False to omit them.
INCLUDE_MAX_DISCOUNT_COMMITS = False

# Relative tolerance for cross-checking a SkyPilot-derived GCP machine price (VM part + GPU
# part) against the whole-machine price in Cyclenerd's pricing.yml.
GCP_CROSSCHECK_TOLERANCE = 0.02

# ---------------------------------------------------------------------------------------------
# Upstream identities and dates
# ---------------------------------------------------------------------------------------------
SKY = "skypilot-org/skypilot-catalog"
SKY_AWS = f"{SKY} catalogs/v8/aws/vms.csv @ 00148f2af3672e2229b4f7bf8157d5a3f36e3c35"
SKY_GCP = f"{SKY} catalogs/v8/gcp/vms.csv @ 006059e0f18acb1341e22a27751e9f80df6ba92f"
SKY_AZURE = f"{SKY} catalogs/v6/azure/vms.csv @ 098741e70562f65d7af1cceb81e33b284f742604"
# The commit dates of these file versions are not recoverable from the sources we could reach;
# the dates below are lower bounds derived from the contents (see README.md, "Dates").
AS_OF = {"aws": "2025-06-01", "gcp": "2025-01-01", "azure": "2023-08-01"}
AWS_FILES = "reference skypilot_aws_gpu_vms_subset.csv + sources/skypilot_v8_aws_vms_excerpt.csv"
GCP_FILES = "reference skypilot_gcp_gpu_vms_subset.csv + sources/skypilot_v8_gcp_vms_excerpt.csv"
AZURE_FILES = "reference skypilot_azure_gpu_vms_subset.csv"

ACCEL_REF = "reference accelerator_specs.csv"
ACCEL_REF_ASOF = (
    "2026-04-13"  # accelerator_specs.csv is undated; newest upstream commit listed in SOURCES.md
)
MLCO2_GPUS = "mlco2/impact data/gpus.csv @ b492fe4ba4f9f61111f2f97ca79aeaa409e6bc34"

HOURS_PER_MONTH = Decimal(730)

# ---------------------------------------------------------------------------------------------
# Static metadata
# ---------------------------------------------------------------------------------------------
REGIONS = {
    # provider, code: (name, location, ISO 3166-1 alpha-2)
    ("aws", "us-east-1"): ("US East (N. Virginia)", "Northern Virginia", "US"),
    ("aws", "us-east-2"): ("US East (Ohio)", "Ohio", "US"),
    ("aws", "us-west-2"): ("US West (Oregon)", "Oregon", "US"),
    ("aws", "eu-west-1"): ("Europe (Ireland)", "Dublin", "IE"),
    ("aws", "eu-central-1"): ("Europe (Frankfurt)", "Frankfurt", "DE"),
    ("aws", "ap-southeast-1"): ("Asia Pacific (Singapore)", "Singapore", "SG"),
    ("aws", "ap-northeast-1"): ("Asia Pacific (Tokyo)", "Tokyo", "JP"),
    ("gcp", "us-central1"): ("Iowa (us-central1)", "Council Bluffs, Iowa", "US"),
    ("gcp", "us-east1"): ("South Carolina (us-east1)", "Moncks Corner, South Carolina", "US"),
    ("gcp", "us-east4"): ("Northern Virginia (us-east4)", "Ashburn, Virginia", "US"),
    ("gcp", "us-west1"): ("Oregon (us-west1)", "The Dalles, Oregon", "US"),
    ("gcp", "europe-west4"): ("Netherlands (europe-west4)", "Eemshaven", "NL"),
    ("gcp", "asia-southeast1"): ("Singapore (asia-southeast1)", "Jurong West", "SG"),
    ("azure", "eastus"): ("East US", "Virginia", "US"),
    ("azure", "eastus2"): ("East US 2", "Virginia", "US"),
    ("azure", "westus2"): ("West US 2", "Washington", "US"),
    ("azure", "northeurope"): ("North Europe", "Ireland", "IE"),
    ("azure", "westeurope"): ("West Europe", "Netherlands", "NL"),
}
REQUIRED_REGIONS = set(REGIONS)

# Catalogue accelerator name -> (family, memory_gb); figures: see accelerator_rows().
ACCELERATORS = {
    "V100": ("V100", 16),
    "V100-32GB": ("V100", 32),
    "T4": ("T4", 16),
    "A10G": ("A10G", 24),
    "A10": ("A10", 24),
    "L4": ("L4", 24),
    "L40S": ("L40S", 48),
    "A100-40GB": ("A100", 40),
    "A100-80GB": ("A100", 80),
    "H100-80GB": ("H100", 80),
    "H200": ("H200", 141),
    "TPU v5e": ("TPU v5e", 16),
}

AWS_ACCEL = {
    "V100": "V100",
    "V100-32GB": "V100-32GB",
    "T4": "T4",
    "A10G": "A10G",
    "L4": "L4",
    "L40S": "L40S",
    "A100": "A100-40GB",
    "A100-80GB": "A100-80GB",
    "H100": "H100-80GB",
}
AZURE_ACCEL = {
    "V100": "V100",
    "V100-32GB": "V100-32GB",
    "T4": "T4",
    "A100": "A100-40GB",
    "A100-80GB": "A100-80GB",
    "H100": "H100-80GB",
    "A10": "A10",
}
# Azure SKUs left out on purpose (README "Not covered"): the NC H100 v5 series carries H100 NVL
# (94 GB) boards, which do not match the H100-80GB (SXM) catalogue accelerator, and their
# upstream spot price is a placeholder.
AZURE_SKIP = {"Standard_NC40ads_H100_v5", "Standard_NC80adis_H100_v5"}
AZURE_COUNT_FIX = {"Standard_ND96isr_H100_v5": 8}

# GCP machine shapes: name -> (host VM row, SkyPilot GPU name, GPU count, catalogue accelerator,
# where the accelerator count is documented).
GCP_SHAPES = {
    "a2-highgpu-1g": (
        "a2-highgpu-1g",
        "A100",
        1,
        "A100-40GB",
        "machine-type suffix -1g; pricing.yml key a100: 1",
    ),
    "a2-highgpu-8g": (
        "a2-highgpu-8g",
        "A100",
        8,
        "A100-40GB",
        "machine-type suffix -8g; pricing.yml key a100: 8",
    ),
    "a2-ultragpu-1g": ("a2-ultragpu-1g", "A100-80GB", 1, "A100-80GB", "machine-type suffix -1g"),
    "a2-ultragpu-8g": ("a2-ultragpu-8g", "A100-80GB", 8, "A100-80GB", "machine-type suffix -8g"),
    "a3-highgpu-1g": ("a3-highgpu-1g", "H100", 1, "H100-80GB", "machine-type suffix -1g"),
    "a3-highgpu-8g": (
        "a3-highgpu-8g",
        "H100",
        8,
        "H100-80GB",
        "machine-type suffix -8g; pricing.yml key h100-80gb: 8",
    ),
    "a3-megagpu-8g": (
        "a3-megagpu-8g",
        "H100-MEGA",
        8,
        "H100-80GB",
        "machine-type suffix -8g; pricing.yml key h100-80gb-mega: 8",
    ),
    "a3-ultragpu-8g": ("a3-ultragpu-8g", "H200", 8, "H200", "machine-type suffix -8g"),
    "g2-standard-4": ("g2-standard-4", "L4", 1, "L4", "pricing.yml key l4: 1"),
    "g2-standard-48": ("g2-standard-48", "L4", 4, "L4", "pricing.yml key l4: 4"),
    "n1-standard-4+1xT4": (
        "n1-standard-4",
        "T4",
        1,
        "T4",
        "attached GPUs named in the catalogue shape",
    ),
    "n1-standard-8+1xV100": (
        "n1-standard-8",
        "V100",
        1,
        "V100",
        "attached GPUs named in the catalogue shape",
    ),
    "n1-standard-32+4xV100": (
        "n1-standard-32",
        "V100",
        4,
        "V100",
        "attached GPUs named in the catalogue shape",
    ),
}
GCP_TPUS = {  # SkyPilot TPU row name -> (catalogue accelerator, chips per slice)
    "tpu-v5litepod-8": ("TPU v5e", 8),
    "tpu-v5litepod-16": ("TPU v5e", 16),
}
TPU_PLACEHOLDER = Decimal("700.0")  # upstream placeholder price for unpriced TPU zones

LOCAL_ZONE_RE = re.compile(r"^[a-z0-9]+-[a-z]+[0-9]+-az[0-9]+$")  # e.g. usw2-lax1-az1

FIELDS = {
    "regions.csv": ["provider", "code", "name", "location", "country_code"],
    "accelerators.csv": ["name", "family", "memory_gb", "peak_tflops", "tdp_w", "source", "as_of"],
    "instance_types.csv": [
        "provider",
        "name",
        "vcpus",
        "memory_gib",
        "accelerator",
        "accelerator_count",
        "source",
        "as_of",
    ],
    "prices.csv": [
        "provider",
        "region",
        "instance_type",
        "purchase_option",
        "price_per_hour",
        "currency",
        "source",
        "as_of",
    ],
    "storage_rates.csv": [
        "provider",
        "region",
        "storage_class",
        "price_per_gb_month",
        "currency",
        "source",
        "as_of",
    ],
    "egress_rates.csv": [
        "provider",
        "region",
        "kind",
        "price_per_gb",
        "currency",
        "source",
        "as_of",
    ],
}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
class BuildError(Exception):
    pass


def dec(value: str) -> Decimal:
    return Decimal(value.strip())


def fmt(value, places: int = 6) -> str:
    """Plain decimal string, rounded to `places`, without trailing zeros or exponent."""
    d = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def num(value) -> str:
    """Format an integral-valued number without a decimal part (e.g. '8.0' -> '8')."""
    return fmt(dec(str(value)), 6)


def median(values):
    return statistics.median(sorted(values))


def read_csv(path: Path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_csv(name: str, rows):
    fields = FIELDS[name]
    with open(CATALOG / name, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r[k] for k in fields})


def merge_rows(files, key_fields, compare_fields, label):
    """Union of rows of several files; identical keys must carry identical values."""
    merged = {}
    for path in files:
        for r in read_csv(path):
            key = tuple(r[k] for k in key_fields)
            if key in merged:
                a = tuple(merged[key][k] for k in compare_fields)
                b = tuple(r[k] for k in compare_fields)
                if a != b:
                    raise BuildError(f"{label}: conflicting rows for {key}: {a} vs {b}")
            else:
                merged[key] = r
    return [merged[k] for k in sorted(merged)]


def load_extra():
    rows = read_csv(CATALOG / "extra_sources.csv")
    for r in rows:
        for k in ("kind", "value", "source", "as_of"):
            if not r[k].strip():
                raise BuildError(f"extra_sources.csv: row without {k}: {r}")
    return rows


# ---------------------------------------------------------------------------------------------
# Accelerators
# ---------------------------------------------------------------------------------------------
def accelerator_rows(extra):
    spec = {r["accelerator"]: r for r in read_csv(REF / "accelerator_specs.csv")}
    mlco2 = {r["name"]: r for r in read_csv(REF / "mlco2_impact_gpus.csv")}
    ex = {(r["subject"], r["attribute"]): r for r in extra if r["kind"] == "accelerator_spec"}

    def lead(text):  # leading number of a free-text cell such as "121 (derived)"
        m = re.match(r"\s*([0-9]+(?:\.[0-9]+)?)", text or "")
        return m.group(1) if m else ""

    def ref(name, col):
        value = lead(spec[name][col])
        if not value:
            raise BuildError(f"accelerator_specs.csv: no number in {name}/{col}")
        return value

    h100_sparse = Decimal(mlco2["H100 SXM"][" TFLOPS16"].strip())
    if h100_sparse != Decimal(1979):
        raise BuildError("mlco2 H100 SXM TFLOPS16 changed; re-check the sparse/dense derivation")
    h100_dense = fmt(h100_sparse / 2)  # 989.5

    rows = []

    def add(name, peak, tdp, source, as_of):
        family, mem = ACCELERATORS[name]
        rows.append(
            {
                "name": name,
                "family": family,
                "memory_gb": num(mem),
                "peak_tflops": peak,
                "tdp_w": tdp,
                "source": source,
                "as_of": as_of,
            }
        )

    v100 = (
        "{ref} row 'V100 SXM2' (NVIDIA V100 datasheet: Tensor {p} TFLOPS, max power {t} W "
        "SXM2; memory 16/32 GB)"
    )
    add(
        "V100",
        ref("V100 SXM2", "peak_dense_bf16_fp16_tflops"),
        ref("V100 SXM2", "tdp_w"),
        v100.format(
            ref=ACCEL_REF,
            p=ref("V100 SXM2", "peak_dense_bf16_fp16_tflops"),
            t=ref("V100 SXM2", "tdp_w"),
        )
        + "; memory 16 GB variant. Azure NCv3 uses the PCIe board, whose peak/TDP are lower (not "
        "sourced here)",
        ACCEL_REF_ASOF,
    )
    add(
        "V100-32GB",
        ref("V100 SXM2", "peak_dense_bf16_fp16_tflops"),
        ref("V100 SXM2", "tdp_w"),
        v100.format(
            ref=ACCEL_REF,
            p=ref("V100 SXM2", "peak_dense_bf16_fp16_tflops"),
            t=ref("V100 SXM2", "tdp_w"),
        )
        + "; memory 32 GB variant (same compute)",
        ACCEL_REF_ASOF,
    )
    add(
        "T4",
        ref("T4", "peak_dense_bf16_fp16_tflops"),
        ref("T4", "tdp_w"),
        f"{ACCEL_REF} row 'T4' = {MLCO2_GPUS} row T4 (70 W, TFLOPS16 65.13) citing the NVIDIA T4 "
        "datasheet",
        ACCEL_REF_ASOF,
    )
    add(
        "A10G",
        "",
        ref("A10G", "tdp_w"),
        f"tdp: {ACCEL_REF} row 'A10G' (150 W, techpowerup via {MLCO2_GPUS}; cloud-carbon-footprint "
        "max 153 W). "
        "peak: no reputable published dense tensor figure found (reference notes the A10G has "
        "lower tensor "
        "compute than the A10) - left blank",
        ACCEL_REF_ASOF,
    )
    add(
        "A10",
        ref("A10", "peak_dense_bf16_fp16_tflops"),
        "",
        f"peak: {ACCEL_REF} row 'A10' (hmc-tech.com third-party computed dense FP16 tensor 125.34; "
        "250.68 sparse). "
        "tdp: not sourced - left blank",
        ACCEL_REF_ASOF,
    )
    add(
        "L4",
        ref("L4", "peak_dense_bf16_fp16_tflops"),
        ref("L4", "tdp_w"),
        f"{ACCEL_REF} row 'L4': derived dense = NVIDIA 242 TFLOPS FP16 tensor with sparsity / 2; "
        f"72 W per {MLCO2_GPUS}",
        ACCEL_REF_ASOF,
    )
    peak, tdp = ex[("L40S", "peak_tflops")], ex[("L40S", "tdp_w")]
    add(
        "L40S",
        fmt(dec(peak["value"])),
        fmt(dec(tdp["value"])),
        f"peak: {peak['source']}. tdp: {tdp['source']}. ({peak['notes']})",
        max(peak["as_of"], tdp["as_of"]),
    )
    add(
        "A100-40GB",
        ref("A100 SXM 40GB", "peak_dense_bf16_fp16_tflops"),
        ref("A100 SXM 40GB", "tdp_w"),
        f"{ACCEL_REF} row 'A100 SXM 40GB' (NVIDIA A100 datasheet: 312 dense / 624 sparse, 400 W "
        "SXM)",
        ACCEL_REF_ASOF,
    )
    add(
        "A100-80GB",
        ref("A100 SXM 80GB", "peak_dense_bf16_fp16_tflops"),
        ref("A100 SXM 80GB", "tdp_w"),
        f"{ACCEL_REF} row 'A100 SXM 80GB' (NVIDIA A100 datasheet 312 dense, 400 W SXM; = "
        f"{MLCO2_GPUS} row "
        "'A100 SXM4 80 GB'). Azure NC A100 v4 uses the PCIe board (lower TDP)",
        ACCEL_REF_ASOF,
    )
    add(
        "H100-80GB",
        h100_dense,
        ref("H100 SXM 80GB", "tdp_w"),
        f"derived: dense = {MLCO2_GPUS} row 'H100 SXM' TFLOPS16 1979 (the sparse figure, a known "
        "defect) / 2; "
        f"700 W per {ACCEL_REF} row 'H100 SXM 80GB' (NVIDIA H100 product page; Llama 3 paper)",
        ACCEL_REF_ASOF,
    )
    add(
        "H200",
        h100_dense,
        ref("H200 SXM", "tdp_w"),
        f"derived: same tensor compute as H100 SXM ({h100_dense} dense, see H100-80GB) and 700 W, "
        f"per {ACCEL_REF} "
        "row 'H200 SXM' (third-party spec pages lzwjava.github.io and aiminingco.com); 141 GB",
        ACCEL_REF_ASOF,
    )
    add(
        "TPU v5e",
        ref("TPU v5e", "peak_dense_bf16_fp16_tflops"),
        "",
        f"{ACCEL_REF} row 'TPU v5e' (Google Cloud TPU v5e docs: 197 TFLOP/s bf16 per chip, 16 GB "
        "HBM2). "
        "TDP not published - left blank",
        ACCEL_REF_ASOF,
    )
    return sorted(rows, key=lambda r: r["name"])


# ---------------------------------------------------------------------------------------------
# AWS
# ---------------------------------------------------------------------------------------------
def build_aws():
    files = [
        REF / "skypilot_aws_gpu_vms_subset.csv",
        SOURCES_DIR / "skypilot_v8_aws_vms_excerpt.csv",
    ]
    rows = merge_rows(
        files,
        ("InstanceType", "AvailabilityZone"),
        (
            "AcceleratorName",
            "AcceleratorCount",
            "vCPUs",
            "MemoryGiB",
            "Price",
            "SpotPrice",
            "Region",
        ),
        "AWS SkyPilot rows",
    )
    by_type_region = defaultdict(list)
    itypes = {}
    for r in rows:
        by_type_region[(r["InstanceType"], r["Region"])].append(r)
        itypes.setdefault(r["InstanceType"], r)
    prices, instances = [], []
    for name, r in sorted(itypes.items()):
        accel = AWS_ACCEL[r["AcceleratorName"]]
        instances.append(
            {
                "provider": "aws",
                "name": name,
                "vcpus": num(r["vCPUs"]),
                "memory_gib": num(r["MemoryGiB"]),
                "accelerator": accel,
                "accelerator_count": num(r["AcceleratorCount"]),
                "source": f"{SKY_AWS} ({AWS_FILES}): vCPUs, MemoryGiB, AcceleratorName "
                f"'{r['AcceleratorName']}', AcceleratorCount",
                "as_of": AS_OF["aws"],
            }
        )
    for (name, region), zrows in sorted(by_type_region.items()):
        ods = sorted({dec(z["Price"]) for z in zrows})
        if max(ods) - min(ods) > max(ods) * Decimal("0.0001"):
            raise BuildError(f"AWS {name} {region}: on-demand differs between zones: {ods}")
        od = zrows[0]["Price"].strip()
        prices.append(
            price_row(
                "aws",
                region,
                name,
                "on_demand",
                fmt(dec(od)),
                f"{SKY_AWS} ({AWS_FILES}): Price column, identical in the region's {len(zrows)} AZ "
                "rows",
                AS_OF["aws"],
            )
        )
        good, empty, placeholder, local = [], 0, 0, 0
        for z in zrows:
            az = z["AvailabilityZone"]
            if LOCAL_ZONE_RE.match(az):
                local += 1
                continue
            if not z["SpotPrice"].strip():
                empty += 1
                continue
            sp = dec(z["SpotPrice"])
            if sp >= dec(od) * Decimal("0.999"):
                placeholder += 1
                continue
            good.append(sp)
        if good:
            excl = []
            if empty:
                excl.append(f"{empty} AZ(s) without a spot price")
            if placeholder:
                excl.append(
                    f"{placeholder} AZ(s) whose SpotPrice equals the on-demand price (placeholder)"
                )
            if local:
                excl.append(f"{local} Local Zone AZ(s)")
            prices.append(
                price_row(
                    "aws",
                    region,
                    name,
                    "spot",
                    fmt(median(good)),
                    f"derived: median of {len(good)} zone spot prices (min {fmt(min(good))}, max "
                    f"{fmt(max(good))}) "
                    f"from {SKY_AWS} ({AWS_FILES})"
                    + (f"; excluded {', '.join(excl)}" if excl else ""),
                    AS_OF["aws"],
                )
            )
    return instances, prices


# ---------------------------------------------------------------------------------------------
# GCP
# ---------------------------------------------------------------------------------------------
def build_gcp(extra):
    files = [
        REF / "skypilot_gcp_gpu_vms_subset.csv",
        SOURCES_DIR / "skypilot_v8_gcp_vms_excerpt.csv",
    ]
    rows = merge_rows(
        files,
        ("InstanceType", "AcceleratorName", "AcceleratorCount", "AvailabilityZone"),
        ("vCPUs", "MemoryGiB", "Region", "Price", "SpotPrice"),
        "GCP SkyPilot rows",
    )
    vm = defaultdict(dict)  # vm type -> zone -> row
    gpu = defaultdict(dict)  # gpu name -> zone -> {count: row}
    tpu = defaultdict(dict)  # tpu name -> zone -> row
    for r in rows:
        if r["InstanceType"]:
            vm[r["InstanceType"]][r["AvailabilityZone"]] = r
        elif r["AcceleratorName"].startswith("tpu-"):
            tpu[r["AcceleratorName"]][r["AvailabilityZone"]] = r
        else:
            gpu[r["AcceleratorName"]].setdefault(r["AvailabilityZone"], {})[
                int(r["AcceleratorCount"])
            ] = r

    cyc = defaultdict(dict)  # (instance, region) -> attribute -> extra row
    for r in extra:
        if r["kind"] == "instance_price" and r["provider"] == "gcp":
            cyc[(r["subject"], r["region"])][r["attribute"]] = r

    # GPU parts that must not be used: any GPU row whose spot price is >= its on-demand price.
    rejected = {}
    for gname, zones in gpu.items():
        for zone, by_count in zones.items():
            for cnt, r in by_count.items():
                if r["SpotPrice"].strip() and dec(r["SpotPrice"]) >= dec(r["Price"]):
                    rejected[(gname, r["Region"])] = (
                        f"upstream {gname} GPU row ({zone}, count {cnt}) has spot {r['SpotPrice']} "
                        ">= on-demand "
                        f"{r['Price']}, so its on-demand GPU price is not credible"
                    )

    def gpu_part(gname, zone, n):
        by_count = gpu.get(gname, {}).get(zone)
        if not by_count:
            return None
        if n in by_count:
            r, cnt = by_count[n], n
        else:
            cnt = 1 if 1 in by_count else min(by_count)
            r = by_count[cnt]
        od = dec(r["Price"]) / cnt * n
        sp = dec(r["SpotPrice"]) / cnt * n if r["SpotPrice"].strip() else None
        return od, sp, cnt, r

    # First pass: SkyPilot-derived candidates per (shape, region).
    cand = {}
    for shape, (vmname, gname, n, _accel, _) in GCP_SHAPES.items():
        per_region = defaultdict(list)
        for zone, v in vm.get(vmname, {}).items():
            part = gpu_part(gname, zone, n)
            if part is None:
                continue
            g_od, g_sp, cnt, grow = part
            sp = None
            if v["SpotPrice"].strip() and g_sp is not None:
                sp = dec(v["SpotPrice"]) + g_sp
            per_region[v["Region"]].append(
                {
                    "zone": zone,
                    "od": dec(v["Price"]) + g_od,
                    "sp": sp,
                    "vm_od": dec(v["Price"]),
                    "gpu_od": g_od,
                    "cnt": cnt,
                    "gpu_row_price": grow["Price"],
                }
            )
        for region, zs in per_region.items():
            cand[(shape, region)] = zs

    # Cross-check against Cyclenerd whole-machine prices; a mismatch rejects that GPU part.
    crosscheck = {}
    for (shape, region), zs in cand.items():
        c = cyc.get((shape, region), {}).get("on_demand")
        if not c:
            continue
        sky = median([z["od"] for z in zs])
        ref = dec(c["value"])
        diff = abs(sky - ref) / ref
        crosscheck[(shape, region)] = (sky, ref, diff)
        gname = GCP_SHAPES[shape][1]
        if diff > Decimal(str(GCP_CROSSCHECK_TOLERANCE)) and (gname, region) not in rejected:
            rejected[(gname, region)] = (
                f"SkyPilot VM+GPU sum for {shape} ({fmt(sky)}) differs {fmt(diff * 100, 1)}% from "
                "the "
                f"whole-machine price {fmt(ref)} in Cyclenerd pricing.yml (GPU SKU mismatch in the "
                "upstream catalogue)"
            )

    instances, prices, notes = [], [], []
    priced_shapes = set()
    for (shape, region), zs in sorted(cand.items()):
        vmname, gname, n, accel, count_src = GCP_SHAPES[shape]
        cy = cyc.get((shape, region), {})
        zones = ",".join(sorted(z["zone"] for z in zs))
        if (gname, region) in rejected:
            reason = rejected[(gname, region)]
            if "on_demand" not in cy:
                notes.append(f"gcp {shape} {region}: not priced - {reason}")
                continue
            od_row = cy["on_demand"]
            prices.append(
                price_row(
                    "gcp",
                    region,
                    shape,
                    "on_demand",
                    fmt(dec(od_row["value"])),
                    f"{od_row['source']} (whole-machine price); used instead of SkyPilot: {reason}",
                    od_row["as_of"],
                )
            )
            if "spot" in cy and dec(cy["spot"]["value"]) < dec(od_row["value"]):
                sp_row = cy["spot"]
                prices.append(
                    price_row(
                        "gcp",
                        region,
                        shape,
                        "spot",
                        fmt(dec(sp_row["value"])),
                        f"{sp_row['source']} (whole-machine spot price); SkyPilot GPU part "
                        "rejected",
                        sp_row["as_of"],
                    )
                )
        else:
            od = median([z["od"] for z in zs])
            z0 = sorted(zs, key=lambda z: z["zone"])[0]
            per_gpu = z0["gpu_od"] / n
            method = (
                f"GPU row count {n}"
                if z0["cnt"] == n
                else f"GPU row count {z0['cnt']} price {z0['gpu_row_price']} / {z0['cnt']} x {n}"
            )
            check = ""
            if (shape, region) in crosscheck:
                _, ref, diff = crosscheck[(shape, region)]
                check = (
                    f"; cross-check: Cyclenerd pricing.yml whole-machine {fmt(ref)} (diff "
                    f"{fmt(diff * 100, 2)}%)"
                )
            prices.append(
                price_row(
                    "gcp",
                    region,
                    shape,
                    "on_demand",
                    fmt(od),
                    f"derived: VM part {vmname} {fmt(z0['vm_od'])} + {n} x per-GPU part {gname} "
                    f"{fmt(per_gpu)} "
                    f"({method}) = {fmt(z0['od'])}, same zone; median over zones [{zones}] from "
                    f"{SKY_GCP} ({GCP_FILES}); "
                    f"SkyPilot GCP VM rows are host-only, GPU rows are priced separately{check}",
                    AS_OF["gcp"],
                )
            )
            sps = [z["sp"] for z in zs if z["sp"] is not None and z["sp"] < z["od"]]
            if sps:
                prices.append(
                    price_row(
                        "gcp",
                        region,
                        shape,
                        "spot",
                        fmt(median(sps)),
                        f"derived: median of {len(sps)} zone spot prices (min {fmt(min(sps))}, max "
                        f"{fmt(max(sps))}), "
                        f"each = VM spot + {n} x per-GPU {gname} spot in the same zone, from "
                        f"{SKY_GCP} ({GCP_FILES})",
                        AS_OF["gcp"],
                    )
                )
        priced_shapes.add(shape)
        for opt, attr in (
            ("commit_1y", "commit_1y_per_month"),
            ("commit_3y", "commit_3y_per_month"),
        ):
            if attr in cy:
                r = cy[attr]
                prices.append(
                    price_row(
                        "gcp",
                        region,
                        shape,
                        opt,
                        fmt(dec(r["value"]) / HOURS_PER_MONTH),
                        f"derived: {r['value']} USD/month / 730 h from {r['source']} "
                        f"({'1' if opt == 'commit_1y' else '3'}-year resource-based committed-use "
                        "discount price)",
                        r["as_of"],
                    )
                )

    for tname, (_accel, chips) in sorted(GCP_TPUS.items()):
        per_region = defaultdict(list)
        for r in tpu.get(tname, {}).values():
            per_region[r["Region"]].append(r)
        for region, zrows in sorted(per_region.items()):
            ods = [dec(r["Price"]) for r in zrows if dec(r["Price"]) != TPU_PLACEHOLDER]
            if not ods:
                continue
            zones = ",".join(sorted(r["AvailabilityZone"] for r in zrows))
            prices.append(
                price_row(
                    "gcp",
                    region,
                    tname,
                    "on_demand",
                    fmt(median(ods)),
                    f"{SKY_GCP} ({GCP_FILES}): TPU row {tname} (whole-slice price, {chips} chips), "
                    f"median over zones [{zones}]",
                    AS_OF["gcp"],
                )
            )
            sps = [
                dec(r["SpotPrice"])
                for r in zrows
                if r["SpotPrice"].strip()
                and dec(r["SpotPrice"]) != TPU_PLACEHOLDER
                and dec(r["SpotPrice"]) < dec(r["Price"])
            ]
            if sps:
                prices.append(
                    price_row(
                        "gcp",
                        region,
                        tname,
                        "spot",
                        fmt(median(sps)),
                        f"derived: median of {len(sps)} zone spot prices (min {fmt(min(sps))}, max "
                        f"{fmt(max(sps))}) of TPU row {tname} (whole slice) from {SKY_GCP} "
                        f"({GCP_FILES})",
                        AS_OF["gcp"],
                    )
                )
            priced_shapes.add(tname)

    for shape in sorted(priced_shapes):
        if shape in GCP_TPUS:
            accel, chips = GCP_TPUS[shape]
            r = next(iter(tpu[shape].values()))
            instances.append(
                {
                    "provider": "gcp",
                    "name": shape,
                    "vcpus": "",
                    "memory_gib": "",
                    "accelerator": accel,
                    "accelerator_count": str(chips),
                    "source": f"{SKY_GCP} ({GCP_FILES}): TPU slice {shape}; "
                    "chip count = slice size in the name (v5litepod-8 = 8 TPU v5e chips); "
                    "host vCPU/memory not listed upstream",
                    "as_of": AS_OF["gcp"],
                }
            )
            continue
        vmname, gname, n, accel, count_src = GCP_SHAPES[shape]
        v = next(iter(vm[vmname].values()))
        instances.append(
            {
                "provider": "gcp",
                "name": shape,
                "vcpus": num(v["vCPUs"]),
                "memory_gib": num(v["MemoryGiB"]),
                "accelerator": accel,
                "accelerator_count": str(n),
                "source": f"{SKY_GCP} ({GCP_FILES}): vCPUs/MemoryGiB of VM row {vmname}; "
                f"{n} x {accel} ({count_src}; upstream GPU name '{gname}')",
                "as_of": AS_OF["gcp"],
            }
        )
    return instances, prices, notes


# ---------------------------------------------------------------------------------------------
# Azure
# ---------------------------------------------------------------------------------------------
def build_azure():
    rows = read_csv(REF / "skypilot_azure_gpu_vms_subset.csv")
    seen = set()
    instances, prices, notes = [], [], []
    itypes = {}
    for r in rows:
        key = (r["InstanceType"], r["Region"])
        if key in seen:
            raise BuildError(f"Azure duplicate row {key}")
        seen.add(key)
        if r["InstanceType"] in AZURE_SKIP:
            notes.append(
                f"azure {r['InstanceType']} {r['Region']}: left out (H100 NVL board; spot "
                "placeholder)"
            )
            continue
        itypes.setdefault(r["InstanceType"], r)
        od = dec(r["Price"])
        prices.append(
            price_row(
                "azure",
                r["Region"],
                r["InstanceType"],
                "on_demand",
                fmt(od),
                f"{SKY_AZURE} ({AZURE_FILES}): Price column (one row per region)",
                AS_OF["azure"],
            )
        )
        if r["SpotPrice"].strip():
            sp = dec(r["SpotPrice"])
            if sp >= od * Decimal("0.999"):
                notes.append(
                    f"azure {r['InstanceType']} {r['Region']}: spot dropped (SpotPrice == Price "
                    "placeholder)"
                )
            else:
                prices.append(
                    price_row(
                        "azure",
                        r["Region"],
                        r["InstanceType"],
                        "spot",
                        fmt(sp),
                        f"derived: median of 1 region-level spot price (min {fmt(sp)}, max "
                        f"{fmt(sp)}) from {SKY_AZURE} "
                        f"({AZURE_FILES}); the Azure catalogue has no per-zone spot prices",
                        AS_OF["azure"],
                    )
                )
    for name, r in sorted(itypes.items()):
        count = r["AcceleratorCount"]
        src = (
            f"{SKY_AZURE} ({AZURE_FILES}): vCPUs, MemoryGiB, AcceleratorName "
            f"'{r['AcceleratorName']}', AcceleratorCount"
        )
        if name in AZURE_COUNT_FIX:
            src += (
                f"; upstream AcceleratorCount {count} is a known defect (reference SOURCES.md): "
                f"{name} has {AZURE_COUNT_FIX[name]} GPUs - corrected"
            )
            count = str(AZURE_COUNT_FIX[name])
        instances.append(
            {
                "provider": "azure",
                "name": name,
                "vcpus": num(r["vCPUs"]),
                "memory_gib": num(r["MemoryGiB"]),
                "accelerator": AZURE_ACCEL[r["AcceleratorName"]],
                "accelerator_count": num(count),
                "source": src,
                "as_of": AS_OF["azure"],
            }
        )
    return instances, prices, notes


# ---------------------------------------------------------------------------------------------
# Commitments for AWS/Azure from a published maximum discount
# ---------------------------------------------------------------------------------------------
def max_discount_commits(prices, extra):
    out = []
    if not INCLUDE_MAX_DISCOUNT_COMMITS:
        return out
    disc = {
        r["provider"]: r for r in extra if r["kind"] == "discount" and r["subject"] == "commit_3y"
    }
    for p in prices:
        if p["purchase_option"] != "on_demand" or p["provider"] not in disc:
            continue
        d = disc[p["provider"]]
        frac = dec(d["value"])
        out.append(
            price_row(
                p["provider"],
                p["region"],
                p["instance_type"],
                "commit_3y",
                fmt(dec(p["price_per_hour"]) * (1 - frac)),
                f"derived: LOWER BOUND = on-demand {p['price_per_hour']} x (1 - {d['value']}); "
                f"{d['value']} is the "
                f"provider's published MAXIMUM saving ({d['source']}), not the 3-year no-upfront "
                "rate of this GPU "
                f"family, which is not in our sources and is usually smaller ({d['notes']})",
                p["as_of"],
            )
        )
    return out


def price_row(provider, region, itype, option, value, source, as_of):
    return {
        "provider": provider,
        "region": region,
        "instance_type": itype,
        "purchase_option": option,
        "price_per_hour": value,
        "currency": "USD",
        "source": source,
        "as_of": as_of,
    }


# ---------------------------------------------------------------------------------------------
# Storage / egress
# ---------------------------------------------------------------------------------------------
def rates(extra, kind):
    out = []
    for r in extra:
        if r["kind"] != kind:
            continue
        src = r["source"] + (f" ({r['notes']})" if r["notes"] else "") + f" [unit: {r['unit']}]"
        if kind == "storage_rate":
            out.append(
                {
                    "provider": r["provider"],
                    "region": r["region"],
                    "storage_class": r["subject"],
                    "price_per_gb_month": fmt(dec(r["value"])),
                    "currency": "USD",
                    "source": src,
                    "as_of": r["as_of"],
                }
            )
        else:
            out.append(
                {
                    "provider": r["provider"],
                    "region": r["region"],
                    "kind": r["subject"],
                    "price_per_gb": fmt(dec(r["value"])),
                    "currency": "USD",
                    "source": src,
                    "as_of": r["as_of"],
                }
            )
    return out


# ---------------------------------------------------------------------------------------------
# Self-check
# ---------------------------------------------------------------------------------------------
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NUM_RE = re.compile(r"^\d+(\.\d+)?$")


def self_check(tables):
    errors = []
    regions = {(r["provider"], r["code"]) for r in tables["regions.csv"]}
    accels = {r["name"] for r in tables["accelerators.csv"]}
    itypes = {(r["provider"], r["name"]) for r in tables["instance_types.csv"]}
    for name, rows in tables.items():
        for i, r in enumerate(rows, start=2):
            for k, v in r.items():
                if "\n" in v:
                    errors.append(f"{name}:{i}: newline in {k}")
            if "source" in r and not r["source"].strip():
                errors.append(f"{name}:{i}: missing source")
            if "as_of" in r and not DATE_RE.match(r["as_of"]):
                errors.append(f"{name}:{i}: missing/invalid as_of {r['as_of']!r}")
            for col in ("price_per_hour", "price_per_gb_month", "price_per_gb"):
                if col in r:
                    v = r[col]
                    if not NUM_RE.match(v) or Decimal(v) <= 0:
                        errors.append(
                            f"{name}:{i}: {col} must be a positive plain number, got {v!r}"
                        )
            for col in (
                "memory_gb",
                "peak_tflops",
                "tdp_w",
                "vcpus",
                "memory_gib",
                "accelerator_count",
            ):
                if col in r and r[col] and not NUM_RE.match(r[col]):
                    errors.append(f"{name}:{i}: {col} not a plain number: {r[col]!r}")
            if "currency" in r and r["currency"] != "USD":
                errors.append(f"{name}:{i}: currency {r['currency']}")
            if (
                name in ("prices.csv", "storage_rates.csv", "egress_rates.csv")
                and (r["provider"], r["region"]) not in regions
            ):
                errors.append(
                    f"{name}:{i}: region {r['provider']}/{r['region']} missing from regions.csv"
                )
    seen = set()
    for i, r in enumerate(tables["prices.csv"], start=2):
        key = (r["provider"], r["region"], r["instance_type"], r["purchase_option"])
        if key in seen:
            errors.append(f"prices.csv:{i}: duplicate {key}")
        seen.add(key)
        if (r["provider"], r["instance_type"]) not in itypes:
            errors.append(
                f"prices.csv:{i}: instance type {r['provider']}/{r['instance_type']} not in "
                "instance_types.csv"
            )
        if r["purchase_option"] not in ("on_demand", "spot", "commit_1y", "commit_3y"):
            errors.append(f"prices.csv:{i}: bad purchase_option {r['purchase_option']}")
        if r["provider"] not in ("aws", "gcp", "azure"):
            errors.append(f"prices.csv:{i}: bad provider {r['provider']}")
    od = {
        (r["provider"], r["region"], r["instance_type"]): Decimal(r["price_per_hour"])
        for r in tables["prices.csv"]
        if r["purchase_option"] == "on_demand"
    }
    for i, r in enumerate(tables["prices.csv"], start=2):
        k = (r["provider"], r["region"], r["instance_type"])
        if r["purchase_option"] != "on_demand":
            if k not in od:
                errors.append(
                    f"prices.csv:{i}: {r['purchase_option']} without an on_demand row for {k}"
                )
            elif Decimal(r["price_per_hour"]) >= od[k]:
                errors.append(
                    f"prices.csv:{i}: {r['purchase_option']} {r['price_per_hour']} not below "
                    f"on-demand {od[k]}"
                )
    for i, r in enumerate(tables["instance_types.csv"], start=2):
        if r["accelerator"] not in accels:
            errors.append(
                f"instance_types.csv:{i}: accelerator {r['accelerator']!r} missing from "
                "accelerators.csv"
            )
        if not r["accelerator_count"] or int(r["accelerator_count"]) <= 0:
            errors.append(f"instance_types.csv:{i}: bad accelerator_count")
    if accels != set(ACCELERATORS):
        errors.append(
            "accelerators.csv names differ from the required set: "
            f"{sorted(accels ^ set(ACCELERATORS))}"
        )
    missing = REQUIRED_REGIONS - regions
    if missing:
        errors.append(f"regions.csv lacks required regions {sorted(missing)}")
    for name, fields in FIELDS.items():
        with open(CATALOG / name, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f))
        if header != fields:
            errors.append(f"{name}: header {header} != {fields}")
    if errors:
        print("SELF-CHECK FAILED:", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        raise SystemExit(1)


# ---------------------------------------------------------------------------------------------
# Coverage report
# ---------------------------------------------------------------------------------------------
def coverage(tables, notes):
    opts = {"on_demand": "OD", "spot": "S", "commit_1y": "1y", "commit_3y": "3y"}
    cov = defaultdict(lambda: defaultdict(list))
    for r in tables["prices.csv"]:
        cov[(r["provider"], r["instance_type"])][r["region"]].append(opts[r["purchase_option"]])
    lines = [
        "# Price coverage (generated by scripts/build_catalog.py - do not edit)",
        "",
        "Cell = purchase options present: OD on-demand, S spot, 1y/3y commitments "
        "(AWS/Azure `3y` = lower bound from the published maximum discount, see README).",
        "",
    ]
    for provider in ("aws", "gcp", "azure"):
        regions = sorted(
            {c for (p, c) in REGIONS if p == provider}
            | {reg for (p, _), m in cov.items() if p == provider for reg in m}
        )
        lines.append(f"## {provider}")
        lines.append("")
        lines.append("| instance type | " + " | ".join(regions) + " |")
        lines.append("|---|" + "---|" * len(regions))
        for p, itype in sorted(k for k in cov if k[0] == provider):
            cells = []
            for reg in regions:
                o = cov[(p, itype)].get(reg, [])
                cells.append(" ".join(v for v in ("OD", "S", "1y", "3y") if v in o) or "-")
            lines.append(f"| {itype} | " + " | ".join(cells) + " |")
        lines.append("")
    counts = {name: len(rows) for name, rows in tables.items()}
    lines.append("## Row counts")
    lines.append("")
    for name in sorted(counts):
        lines.append(f"- {name}: {counts[name]}")
    lines.append("")
    lines.append("## Rows left out by the build")
    lines.append("")
    for n in sorted(set(notes)):
        lines.append(f"- {n}")
    lines.append("")
    (CATALOG / "COVERAGE.md").write_text("\n".join(lines), encoding="utf-8")
    return counts


# ---------------------------------------------------------------------------------------------
def main():
    if not REF.is_dir():
        raise SystemExit(f"reference directory not found: {REF} (set COSTSITE_REFERENCE_DIR)")
    extra = load_extra()
    aws_i, aws_p = build_aws()
    gcp_i, gcp_p, gcp_notes = build_gcp(extra)
    az_i, az_p, az_notes = build_azure()
    prices = aws_p + gcp_p + az_p
    prices += max_discount_commits(prices, extra)
    prices.sort(
        key=lambda r: (
            r["provider"],
            r["instance_type"],
            r["region"],
            ["on_demand", "spot", "commit_1y", "commit_3y"].index(r["purchase_option"]),
        )
    )
    instances = sorted(aws_i + gcp_i + az_i, key=lambda r: (r["provider"], r["name"]))
    storage = sorted(
        rates(extra, "storage_rate"), key=lambda r: (r["provider"], r["region"], r["storage_class"])
    )
    egress = sorted(
        rates(extra, "egress_rate"), key=lambda r: (r["provider"], r["region"], r["kind"])
    )
    used = (
        {(r["provider"], r["region"]) for r in prices}
        | {(r["provider"], r["region"]) for r in storage}
        | {(r["provider"], r["region"]) for r in egress}
    )
    unknown = used - set(REGIONS)
    if unknown:
        raise BuildError(f"regions without metadata in REGIONS: {sorted(unknown)}")
    regions = [
        {
            "provider": p,
            "code": c,
            "name": REGIONS[(p, c)][0],
            "location": REGIONS[(p, c)][1],
            "country_code": REGIONS[(p, c)][2],
        }
        for (p, c) in sorted(set(REGIONS) | used)
    ]
    tables = {
        "regions.csv": regions,
        "accelerators.csv": accelerator_rows(extra),
        "instance_types.csv": instances,
        "prices.csv": prices,
        "storage_rates.csv": storage,
        "egress_rates.csv": egress,
    }
    for name, rows in tables.items():
        write_csv(name, rows)
    self_check(tables)
    counts = coverage(tables, gcp_notes + az_notes)
    print("catalog written to", CATALOG)
    for name in sorted(counts):
        print(f"  {name}: {counts[name]} rows")
    print("self-check passed")


if __name__ == "__main__":
    try:
        main()
    except BuildError as exc:
        print(f"BUILD FAILED: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
