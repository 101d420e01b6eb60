#!/usr/bin/env python3
"""Build the shipped carbon catalogue (CSV files and README.md under carbon/catalog/).

Run by a developer from the repository root:

    python scripts/build_carbon_catalog.py

Inputs (read only here, never by the app at run time):
  * /work/shared/reference/ (override with COSTSITE_REFERENCE_DIR): Google's region carbon
    files, Cloud Carbon Footprint (CCF) factors, CodeCarbon energy-mix files and mlco2/impact
    regions; see its SOURCES.md;
  * estimates/catalog/regions.csv, accelerators.csv and instance_types.csv: the price
    catalogue (read only). They define the regions and accelerators to cover;
  * the hand-collected figures in PROVIDER_PUE, HOST_POWER and EQUIVALENTS below, each with
    its source and date.

Outputs in carbon/catalog/: grid_intensity.csv, country_intensity.csv, world_intensity.csv,
pue.csv, accelerator_power.csv, host_power.csv, equivalents.csv and README.md. Standard library
only. The output is deterministic (sorted rows, fixed number formatting, no timestamps). The
script ends with a self-check that re-reads the written files and exits non-zero on any problem.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "carbon" / "catalog"
PRICE = ROOT / "estimates" / "catalog"
REF = Path(os.environ.get("COSTSITE_REFERENCE_DIR", "/work/shared/reference"))

# ---------------------------------------------------------------------------------------------
# Upstream identities (see the reference's SOURCES.md)
# ---------------------------------------------------------------------------------------------
GCP_YEAR = 2024
GCP_FILE = f"gcp_region_carbon_{GCP_YEAR}.csv"
GCP_UPSTREAM = (
    "GoogleCloudPlatform/region-carbon-info data/yearly/2024.csv @ "
    "49f3f26bfd682305e8d9b572fea1f811900421a9 (Apache-2.0)"
)
GCP_HEADER = [
    "Google Cloud Region",
    "Location",
    "Google CFE",
    "Grid carbon intensity (gCO2eq / kWh)",
]

CCF_REPO = "cloud-carbon-footprint/cloud-carbon-footprint"
CCF_COMMIT = "122a14262fceb325b605dabc21ec3f9ce1e43a54"  # 2023-05-19, as in the reference
CCF_YEAR = 2023  # commit year: an upper bound, the data vintage is not stated upstream
CCF_PATHS = {
    "aws": "packages/aws/src/domain/AwsFootprintEstimationConstants.ts",
    "azure": "packages/azure/src/domain/AzureFootprintEstimationConstants.ts",
    "gcp": "packages/gcp/src/domain/GcpFootprintEstimationConstants.ts",
}
CCF_CORE = "packages/core/src/FootprintEstimationConstants.ts"
CCF_GRID_BASIS = (
    "CCF's stated basis for grid factors: EPA eGRID NERC-region factors for US regions, "
    "carbonfootprint.com grid factors elsewhere (data vintage not stated)"
)
# The CPU/memory constants are not in the reference; they were read from the stored copy of
# the CCF constants files at this commit (commit date not recoverable from the stored copy).
CCF_HOST_COMMIT = "0656d55594b69d74ce35ff18019be36140beaa50"

CODECARBON_MIX = (
    "mlco2/codecarbon codecarbon/data/private_infra/global_energy_mix.json @ "
    "4f166a5593132480ae545a54fb61f69d0f58b68b (MIT)"
)
CODECARBON_WORLD = (
    "mlco2/codecarbon codecarbon/data/private_infra/carbon_intensity_per_source.json @ "
    "ee46cd4999e63fd500c7941b594cd56e267b1dd9 (MIT)"
)
MLCO2_REGIONS = "mlco2/impact data/impact.csv @ 96c7c2efc276f1ee7a0f932b8975ca7020ecf5db"

PROVIDERS = ("aws", "azure", "gcp")

# ---------------------------------------------------------------------------------------------
# Hand-collected figures (each with its source and date)
# ---------------------------------------------------------------------------------------------
# Provider-wide PUE. AWS and GCP are the providers' own published fleet figures; for Azure no
# Microsoft-owned page with a current number could be read, so CCF's constant is used (None).
PROVIDER_PUE = {
    "aws": (
        "1.14",
        2025,
        "Amazon (own figure): 'In 2025, our data centers reported an average global PUE of "
        "1.14 which is an improvement compared to 1.15 reported in 2024' - Amazon "
        "Sustainability, AWS Cloud page https://sustainability.aboutamazon.com/environment/"
        "the-cloud/asdi ; 2024 value 1.15 also stated on "
        "https://aws.amazon.com/tw/sustainability/data-centers",
    ),
    "gcp": (
        "1.10",
        2023,
        "Google (own figure): 'In 2023, the average annual power usage effectiveness for our "
        "data centers was 1.10' - Google 2024 Environmental Report announcement "
        "https://blog.google/outreach-initiatives/sustainability/2024-environmental-report",
    ),
    "azure": None,
}

_CCF_HOST = f"{CCF_REPO} {{path}} @ {CCF_HOST_COMMIT}"
HOST_POWER = [
    # component, value, unit, source
    (
        "aws_vcpu_min_w",
        "0.74",
        "W per vCPU",
        _CCF_HOST.format(path=CCF_PATHS["aws"]) + " MIN_WATTS_AVG: 0.74 (idle, average over "
        "AWS CPU microarchitectures)",
    ),
    (
        "aws_vcpu_max_w",
        "3.5",
        "W per vCPU",
        _CCF_HOST.format(path=CCF_PATHS["aws"]) + " MAX_WATTS_AVG: 3.5 (100% utilisation)",
    ),
    (
        "azure_vcpu_min_w",
        "0.74",
        "W per vCPU",
        _CCF_HOST.format(path=CCF_PATHS["azure"]) + " MIN_WATTS_AVG: 0.74",
    ),
    (
        "azure_vcpu_max_w",
        "3.54",
        "W per vCPU",
        _CCF_HOST.format(path=CCF_PATHS["azure"]) + " MAX_WATTS_AVG: 3.54",
    ),
    (
        "gcp_vcpu_min_w",
        "0.68",
        "W per vCPU",
        _CCF_HOST.format(path=CCF_PATHS["gcp"]) + " MIN_WATTS_MEDIAN: 0.68 (median over GCP "
        "CPU microarchitectures)",
    ),
    (
        "gcp_vcpu_max_w",
        "4.11",
        "W per vCPU",
        _CCF_HOST.format(path=CCF_PATHS["gcp"]) + " MAX_WATTS_MEDIAN: 4.11",
    ),
    (
        "memory_w_per_gib",
        "0.392",
        "W per GiB",
        _CCF_HOST.format(path=CCF_PATHS["aws"]) + " MEMORY_COEFFICIENT: 0.000392 kWh/GB-hour "
        "(= 0.392 W per GB; same value in the Azure and GCP files). CCF labels it per GB; it is "
        "applied here per GiB of instance memory (the unit the price catalogue uses)",
    ),
    (
        "default_cpu_utilization",
        "0.5",
        "fraction",
        _CCF_HOST.format(path=CCF_PATHS["aws"]) + " AVG_CPU_UTILIZATION_2020: 50 (percent; "
        "CCF's default when utilisation is unknown; same value in the Azure file)",
    ),
]

EPA_URL = (
    "https://www.epa.gov/energy/greenhouse-gases-equivalencies-calculator-calculations-and-"
    "references"
)
EPA_ASOF = "2026-08-04"
EPA_NOTE = (
    "US EPA Greenhouse Gas Equivalencies Calculator - Calculations and References "
    f"{EPA_URL} (page version last updated {EPA_ASOF}, eGRID2022-vintage inputs; the page "
    "was not fetched by this build - the figure was cross-checked against independent "
    "public transcriptions of the current page, see README); shipped in kg (metric tons x 1000)"
)
KM_PER_MILE = Decimal("1.609344")  # exact, international mile
EQUIVALENTS = [
    # name, value, unit, source, as_of
    (
        "car_mile",
        "0.393",
        "kg CO2e per mile",
        "'Miles driven by the average gasoline-powered passenger vehicle': 3.93 x 10-4 metric "
        f"tons CO2E/mile. {EPA_NOTE}",
        EPA_ASOF,
    ),
    (
        "tree_seedling_10y",
        "60",
        "kg CO2 per seedling over 10 years",
        "'Number of urban tree seedlings grown for 10 years': 0.060 metric ton CO2 per urban "
        "tree planted (medium-growth seedling, survival-weighted; EPA: not for reforestation "
        f"projects). {EPA_NOTE}",
        EPA_ASOF,
    ),
    (
        "smartphone_charge",
        "0.0124",
        "kg CO2 per charge",
        f"'Number of smartphones charged': 1.24 x 10-5 metric tons CO2/smartphone charged. "
        f"{EPA_NOTE}",
        EPA_ASOF,
    ),
    (
        "home_electricity_year",
        "4798",
        "kg CO2 per home per year",
        f"'Homes' electricity use for one year': 4.798 metric tons CO2/home (US average home). "
        f"{EPA_NOTE}",
        EPA_ASOF,
    ),
    (
        "offset_price_per_tonne",
        "4",
        "USD per t CO2e",
        "World Federation of Exchanges research note 'Unveiling Price Dynamics in the "
        "Voluntary Carbon Market: Trends and Insights' (Nov 2024), average price paid for "
        "credits at retirement (AlliedOffsets data over ACR, Cercarbono, CAR, Gold Standard and "
        "Verra): 'declining back to $4/tCO2e by the middle of 2024' "
        "https://focus.world-exchanges.org/articles/unveiling-price-dynamics-voluntary-carbon-"
        "market-trends-and-insights ; approximate (chart-level precision, all project types)",
        "2024-06-30",
    ),
]
# car_km is derived from car_mile (EPA publishes no per-km figure).

# Price-catalogue accelerator name -> CCF GPU key (ccf_gpu_min_max_watts.csv). Names not listed
# have no CCF min/max figure.
CCF_GPU = {
    "A100-40GB": "NVIDIA_TESLA_A100",
    "A100-80GB": "NVIDIA_TESLA_A100",
    "A10G": "NVIDIA_A10G",
    "T4": "NVIDIA_T4",
    "V100": "NVIDIA_TESLA_V100",
    "V100-32GB": "NVIDIA_TESLA_V100",
}
_A100_NOTE = (
    "CCF has one 'A100' entry (no form factor or memory size); its 407 W max is close to the "
    "SXM board's 400 W TDP"
)
ACCEL_NOTES = {
    "TPU v5e": "TDP: not published by Google (blank, as in accelerators.csv)",
    "A10": "TDP: no source found (blank in accelerators.csv); CCF has A10G only, not A10",
    "A100-40GB": _A100_NOTE,
    "A100-80GB": _A100_NOTE,
}

# ISO 3166-1 alpha-3 -> alpha-2 for every key of CodeCarbon's global_energy_mix.json at the
# commit above (checked once against the Debian iso-codes iso_3166-1.json; explicit here so the
# build needs nothing but the standard library).
# fmt: off
ISO3_TO_ISO2 = {
    "ABW": "AW", "AFG": "AF", "AGO": "AO", "ALB": "AL", "ARE": "AE", "ARG": "AR", "ARM": "AM",
    "ASM": "AS", "ATG": "AG", "AUS": "AU", "AUT": "AT", "AZE": "AZ", "BDI": "BI", "BEL": "BE",
    "BEN": "BJ", "BFA": "BF", "BGD": "BD", "BGR": "BG", "BHR": "BH", "BHS": "BS", "BIH": "BA",
    "BLR": "BY", "BLZ": "BZ", "BMU": "BM", "BOL": "BO", "BRA": "BR", "BRB": "BB", "BRN": "BN",
    "BTN": "BT", "BWA": "BW", "CAF": "CF", "CAN": "CA", "CHE": "CH", "CHL": "CL", "CHN": "CN",
    "CIV": "CI", "CMR": "CM", "COD": "CD", "COG": "CG", "COK": "CK", "COL": "CO", "COM": "KM",
    "CPV": "CV", "CRI": "CR", "CUB": "CU", "CYM": "KY", "CYP": "CY", "CZE": "CZ", "DEU": "DE",
    "DJI": "DJ", "DMA": "DM", "DNK": "DK", "DOM": "DO", "DZA": "DZ", "ECU": "EC", "EGY": "EG",
    "ERI": "ER", "ESH": "EH", "ESP": "ES", "EST": "EE", "ETH": "ET", "FIN": "FI", "FJI": "FJ",
    "FLK": "FK", "FRA": "FR", "FRO": "FO", "GAB": "GA", "GBR": "GB", "GEO": "GE", "GHA": "GH",
    "GIB": "GI", "GIN": "GN", "GLP": "GP", "GMB": "GM", "GNB": "GW", "GNQ": "GQ", "GRC": "GR",
    "GRD": "GD", "GRL": "GL", "GTM": "GT", "GUF": "GF", "GUM": "GU", "GUY": "GY", "HKG": "HK",
    "HND": "HN", "HRV": "HR", "HTI": "HT", "HUN": "HU", "IDN": "ID", "IND": "IN", "IRL": "IE",
    "IRN": "IR", "IRQ": "IQ", "ISL": "IS", "ISR": "IL", "ITA": "IT", "JAM": "JM", "JOR": "JO",
    "JPN": "JP", "KAZ": "KZ", "KEN": "KE", "KGZ": "KG", "KHM": "KH", "KIR": "KI", "KNA": "KN",
    "KOR": "KR", "KWT": "KW", "LAO": "LA", "LBN": "LB", "LBR": "LR", "LBY": "LY", "LCA": "LC",
    "LKA": "LK", "LSO": "LS", "LTU": "LT", "LUX": "LU", "LVA": "LV", "MAC": "MO", "MAR": "MA",
    "MDA": "MD", "MDG": "MG", "MDV": "MV", "MEX": "MX", "MKD": "MK", "MLI": "ML", "MLT": "MT",
    "MMR": "MM", "MNE": "ME", "MNG": "MN", "MOZ": "MZ", "MRT": "MR", "MSR": "MS", "MTQ": "MQ",
    "MUS": "MU", "MWI": "MW", "MYS": "MY", "NAM": "NA", "NCL": "NC", "NER": "NE", "NGA": "NG",
    "NIC": "NI", "NLD": "NL", "NOR": "NO", "NPL": "NP", "NRU": "NR", "NZL": "NZ", "OMN": "OM",
    "PAK": "PK", "PAN": "PA", "PER": "PE", "PHL": "PH", "PNG": "PG", "POL": "PL", "PRI": "PR",
    "PRK": "KP", "PRT": "PT", "PRY": "PY", "PSE": "PS", "PYF": "PF", "QAT": "QA", "REU": "RE",
    "ROU": "RO", "RUS": "RU", "RWA": "RW", "SAU": "SA", "SDN": "SD", "SEN": "SN", "SGP": "SG",
    "SHN": "SH", "SLB": "SB", "SLE": "SL", "SLV": "SV", "SOM": "SO", "SPM": "PM", "SRB": "RS",
    "SSD": "SS", "STP": "ST", "SUR": "SR", "SVK": "SK", "SVN": "SI", "SWE": "SE", "SWZ": "SZ",
    "SYC": "SC", "SYR": "SY", "TCA": "TC", "TCD": "TD", "TGO": "TG", "THA": "TH", "TJK": "TJ",
    "TKM": "TM", "TLS": "TL", "TON": "TO", "TTO": "TT", "TUN": "TN", "TUR": "TR", "TWN": "TW",
    "TZA": "TZ", "UGA": "UG", "UKR": "UA", "URY": "UY", "USA": "US", "UZB": "UZ", "VCT": "VC",
    "VEN": "VE", "VGB": "VG", "VIR": "VI", "VNM": "VN", "VUT": "VU", "WSM": "WS", "YEM": "YE",
    "ZAF": "ZA", "ZMB": "ZM", "ZWE": "ZW",
}
# fmt: on

# ---------------------------------------------------------------------------------------------
# Output headers
# ---------------------------------------------------------------------------------------------
HEADERS = {
    "grid_intensity.csv": [
        "provider",
        "region",
        "intensity_g_per_kwh",
        "year",
        "cfe_percent",
        "source",
        "basis",
    ],
    "country_intensity.csv": ["country_code", "intensity_g_per_kwh", "year", "source"],
    "world_intensity.csv": ["intensity_g_per_kwh", "source"],
    "pue.csv": ["provider", "region", "pue", "year", "source"],
    "accelerator_power.csv": ["accelerator", "tdp_w", "idle_w", "max_w", "source"],
    "host_power.csv": ["component", "value", "unit", "source"],
    "equivalents.csv": ["name", "value", "unit", "source", "as_of"],
}
EXPECTED_HOST = {row[0] for row in HOST_POWER}
EXPECTED_EQUIVALENTS = {row[0] for row in EQUIVALENTS} | {"car_km"}

NUM_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
DATE_RE = re.compile(r"^[0-9]{4}(-[0-9]{2}-[0-9]{2})?$")


class BuildError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def fmt(value, places: int = 6) -> str:
    """Plain decimal string rounded to `places`, without trailing zeros or exponent."""
    d = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


def write_csv(name: str, rows: list[list[str]]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / name).open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADERS[name])
        w.writerows(rows)


def dec(text: str, what: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except Exception as exc:
        raise BuildError(f"{what}: not a number: {text!r}") from exc


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------
def load_price_catalogue():
    regions = read_csv(PRICE / "regions.csv")
    accels = read_csv(PRICE / "accelerators.csv")
    itypes = read_csv(PRICE / "instance_types.csv")
    if not regions or not accels:
        raise BuildError("price catalogue regions.csv/accelerators.csv is empty")
    keys = [(r["provider"], r["code"]) for r in regions]
    if len(set(keys)) != len(keys):
        raise BuildError("duplicate (provider, code) in estimates/catalog/regions.csv")
    for r in regions:
        if r["provider"] not in PROVIDERS:
            raise BuildError(f"unknown provider in regions.csv: {r['provider']}")
    names = {a["name"] for a in accels}
    for t in itypes:
        if t["accelerator"] and t["accelerator"] not in names:
            raise BuildError(f"instance type {t['name']} uses unknown accelerator")
    return regions, accels, itypes


def load_gcp() -> dict[str, tuple[Decimal, Decimal | None, str]]:
    path = REF / GCP_FILE
    if read_header(path) != GCP_HEADER:
        raise BuildError(f"{GCP_FILE}: unexpected header {read_header(path)}")
    out: dict[str, tuple[Decimal, Decimal | None, str]] = {}
    for row in read_csv(path):
        region = row["Google Cloud Region"].strip()
        if region in out:
            raise BuildError(f"{GCP_FILE}: duplicate region {region}")
        intensity = dec(row[GCP_HEADER[3]], f"{GCP_FILE} {region}")
        cfe_text = row["Google CFE"].strip()
        cfe = dec(cfe_text, f"{GCP_FILE} {region} CFE") if cfe_text else None
        if cfe is not None and not Decimal(0) <= cfe <= Decimal(1):
            raise BuildError(f"{GCP_FILE} {region}: CFE fraction out of range: {cfe}")
        out[region] = (intensity, cfe, cfe_text)
    return out


def load_ccf() -> dict[tuple[str, str, str], dict[str, str]]:
    out: dict[tuple[str, str, str], dict[str, str]] = {}
    for row in read_csv(REF / "ccf_region_emission_factors.csv"):
        key = (row["provider"], row["region"], row["factor_kind"])
        if key in out:
            raise BuildError(f"ccf_region_emission_factors.csv: duplicate {key}")
        t = dec(row["tCO2e_per_kWh"], f"CCF {key}")
        g = dec(row["gCO2e_per_kWh"], f"CCF {key}")
        if abs(t * Decimal(1_000_000) - g) > Decimal("0.001"):
            raise BuildError(f"CCF {key}: g/kWh column {g} != t/kWh {t} x 1e6")
        out[key] = row
    return out


def load_ccf_gpus() -> dict[str, tuple[Decimal, Decimal]]:
    seen: dict[str, tuple[Decimal, Decimal]] = {}
    for row in read_csv(REF / "ccf_gpu_min_max_watts.csv"):
        gpu = row["gpu"]
        pair = (dec(row["min_watts"], gpu), dec(row["max_watts"], gpu))
        if gpu in seen and seen[gpu] != pair:
            raise BuildError(f"ccf_gpu_min_max_watts.csv: {gpu} differs between providers")
        seen[gpu] = pair
    return seen


def load_mlco2() -> dict[tuple[str, str], str]:
    out = {}
    for row in read_csv(REF / "mlco2_impact_cloud_regions.csv"):
        if row["region"]:
            out[(row["provider"], row["region"])] = row["impact"]
    return out


def load_energy_mix() -> dict:
    with (REF / "codecarbon_global_energy_mix.json").open(encoding="utf-8") as f:
        return json.load(f, parse_float=Decimal)


def load_world() -> dict:
    with (REF / "codecarbon_carbon_intensity_per_source.json").open(encoding="utf-8") as f:
        return json.load(f, parse_float=Decimal)


# ---------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------
def build_grid(regions, gcp, ccf):
    rows, missing = [], []
    for r in sorted(regions, key=lambda r: (r["provider"], r["code"])):
        p, code = r["provider"], r["code"]
        if p == "gcp":
            if code not in gcp:
                missing.append((p, code))
                continue
            intensity, cfe, cfe_text = gcp[code]
            cfe_pct = fmt(cfe * 100, 2) if cfe is not None else ""
            src = (
                f"{GCP_UPSTREAM} (reference {GCP_FILE}): grid carbon intensity "
                f"{row_text(intensity)} gCO2eq/kWh (location-based, year "
                f"{GCP_YEAR}); cfe_percent = 'Google CFE' {cfe_text or 'blank'} x 100"
            )
            rows.append(["gcp", code, fmt(intensity), str(GCP_YEAR), cfe_pct, src, "region"])
            continue
        row = ccf.get((p, code, "grid"))
        if row is None:
            missing.append((p, code))
            continue
        t = dec(row["tCO2e_per_kWh"], f"CCF {p} {code}")
        note = row["note"].strip()
        nerc = f"; {note} factor defined in {CCF_CORE}" if note.startswith("US NERC") else ""
        src = (
            f"{CCF_REPO} {CCF_PATHS[p]} @ {CCF_COMMIT} (reference "
            f"ccf_region_emission_factors.csv): {row['tCO2e_per_kWh']} tCO2e/kWh x 1e6{nerc}. "
            f"{CCF_GRID_BASIS}; year = CCF commit year"
        )
        rows.append([p, code, fmt(t * Decimal(1_000_000)), str(CCF_YEAR), "", src, "region"])
    return rows, missing


def row_text(d: Decimal) -> str:
    return fmt(d)


def build_country(mix):
    rows, skipped = [], []
    for iso3 in sorted(mix):
        entry = mix[iso3]
        if iso3 not in ISO3_TO_ISO2:
            raise BuildError(f"global_energy_mix.json: no alpha-2 mapping for {iso3}")
        if entry.get("iso_code") != iso3:
            raise BuildError(f"global_energy_mix.json: key {iso3} != iso_code")
        ci = entry.get("carbon_intensity")
        if ci is None or Decimal(ci) <= 0:
            skipped.append((iso3, entry.get("country_name", ""), ci))
            continue
        year = int(entry["year"])
        src = (
            f"{CODECARBON_MIX} (reference codecarbon_global_energy_mix.json) key {iso3} "
            f"({entry['country_name']}): carbon_intensity gCO2/kWh, year {year}"
        )
        rows.append([ISO3_TO_ISO2[iso3], fmt(ci), str(year), src])
    rows.sort()
    return rows, skipped


def build_world(world):
    if world.get("unit") != "gCO2.eq/kWh":
        raise BuildError(f"carbon_intensity_per_source.json: unexpected unit {world.get('unit')}")
    value = world["world_average"]
    src = (
        f"{CODECARBON_WORLD} (reference codecarbon_carbon_intensity_per_source.json): "
        f"world_average {fmt(value)} gCO2.eq/kWh; CodeCarbon's cited source: "
        f"{world['world_average_source']}"
    )
    return [[fmt(value), src]]


def build_pue(regions, ccf):
    priced = {(r["provider"], r["code"]) for r in regions}
    ccf_pue: dict[tuple[str, str], Decimal] = {}
    for (p, region, _kind), row in ccf.items():
        v = dec(row["pue_used_by_ccf"], f"CCF PUE {p} {region}")
        if (p, region) in ccf_pue and ccf_pue[(p, region)] != v:
            raise BuildError(f"CCF PUE differs between factor tables for {p} {region}")
        ccf_pue[(p, region)] = v
    rows = []
    for p in PROVIDERS:
        if p not in {r["provider"] for r in regions}:
            continue
        fixed = PROVIDER_PUE[p]
        if fixed is None:
            values = {v for (pp, _r), v in ccf_pue.items() if pp == p}
            if len(values) != 1:
                raise BuildError(f"CCF {p} PUE is not a single provider-wide value: {values}")
            v = values.pop()
            src = (
                f"{CCF_REPO} {CCF_PATHS[p]} PUE_AVG @ {CCF_COMMIT} (reference "
                f"ccf_region_emission_factors.csv pue_used_by_ccf); CCF's constant, used "
                f"because no current {p} figure on a provider-owned page was obtained; "
                f"year = CCF commit year"
            )
            rows.append([p, "", fmt(v), str(CCF_YEAR), src])
        else:
            value, year, src = fixed
            rows.append([p, "", fmt(value), str(year), src])
    # Per-region GCP PUE: CCF's trailing-twelve-month table. The reference only gives the value
    # CCF ends up using; 1.1 is also CCF's GCP default, so only values != 1.1 are known to come
    # from the per-region table.
    gcp_default = Decimal("1.1")
    for (p, region), v in sorted(ccf_pue.items()):
        if p != "gcp" or (p, region) not in priced or v == gcp_default:
            continue
        src = (
            f"{CCF_REPO} {CCF_PATHS['gcp']} PUE_TRAILING_TWELVE_MONTH @ {CCF_COMMIT} (reference "
            f"ccf_region_emission_factors.csv pue_used_by_ccf): CCF's per-region trailing-"
            f"twelve-month PUE for {region} (Google publishes campus TTM PUE at "
            f"https://www.google.com/about/datacenters/efficiency/ ; CCF's campus-to-region "
            f"mapping and the measurement period are not stated); year = CCF commit year"
        )
        rows.append([p, region, fmt(v), str(CCF_YEAR), src])
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows, ccf_pue


def build_accelerators(accels, gpus):
    rows = []
    for a in sorted(accels, key=lambda a: a["name"]):
        name = a["name"]
        tdp = a["tdp_w"].strip()
        parts = []
        if tdp:
            parts.append(f"tdp_w: copied from estimates/catalog/accelerators.csv ({a['source']})")
        else:
            parts.append("tdp_w: blank in estimates/catalog/accelerators.csv")
        idle = mx = ""
        key = CCF_GPU.get(name)
        if key:
            if key not in gpus:
                raise BuildError(f"CCF GPU key {key} missing from ccf_gpu_min_max_watts.csv")
            lo, hi = gpus[key]
            idle, mx = fmt(lo), fmt(hi)
            parts.append(
                f"idle_w/max_w: CCF MIN/MAX_WATTS_BY_COMPUTE_PROCESSOR {key} "
                f"({CCF_REPO} @ {CCF_COMMIT}, reference ccf_gpu_min_max_watts.csv; same for "
                f"every provider listing it)"
            )
        else:
            parts.append("idle_w/max_w: no CCF figure for this accelerator (blank)")
        if name in ACCEL_NOTES:
            parts.append(ACCEL_NOTES[name])
        rows.append([name, fmt(tdp) if tdp else "", idle, mx, "; ".join(parts)])
    return rows


def build_host():
    return sorted([[c, fmt(v), u, s] for c, v, u, s in HOST_POWER])


def build_equivalents():
    rows = [[n, fmt(v), u, s, a] for n, v, u, s, a in EQUIVALENTS]
    mile = Decimal({r[0]: r[1] for r in EQUIVALENTS}["car_mile"])
    rows.append(
        [
            "car_km",
            fmt(mile / KM_PER_MILE),
            "kg CO2e per km",
            f"derived: car_mile {fmt(mile)} kg CO2e/mile / {KM_PER_MILE} km per mile (EPA "
            f"publishes no per-km figure). car_mile source: {EPA_NOTE}",
            EPA_ASOF,
        ]
    )
    rows.sort()
    return rows


# ---------------------------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------------------------
README_TEMPLATE = """# Shipped carbon catalogue

These CSV files are the carbon data that costsite ships: grid carbon intensity per priced region,
country and world fallbacks, data-centre PUE, accelerator and host power, and equivalents used to
explain a footprint. They are **generated**: do not edit them by hand. Change the inputs or the
constants in the script and rebuild from the repository root:

```
python scripts/build_carbon_catalog.py
```

The script uses the standard library only. It reads the public reference bundle in
`/work/shared/reference/` (set `COSTSITE_REFERENCE_DIR` to use another copy), the price catalogue
in `estimates/catalog/` (`regions.csv`, `accelerators.csv`, `instance_types.csv`; read only), and a
few hand-collected figures that are written into the script with their sources. The app never
reads `/work/shared` at run time; only these committed files are shipped.

The build is deterministic: rows are sorted, numbers are plain decimals (no exponent, trailing
zeros dropped), line endings are `\\n`, and there are no timestamps, so running it twice gives
byte-identical files. It ends with a **self-check** that re-reads the written files and exits
non-zero if any of these fails: exact headers; every priced region has a `grid_intensity` row or
its country in `country_intensity`; every accelerator in `accelerators.csv` has exactly one
`accelerator_power` row; every number is a plain decimal greater than 0 (`cfe_percent` may be
0-100; PUE >= 1; idle < max); years and dates are well formed; every row has a source; no
duplicate keys; rows only for priced regions/accelerators; the expected constants are present.

**Coverage: {coverage_line}**

## Files

{files_table}

Each row's `source` says where its number came from (URL, or repository path and commit). Any figure
that was computed rather than copied starts with `derived:` or states its unit conversion
(`x 1e6`, `x 100`, `x 1000`) in its source.

## How the app should use it

**Grid intensity fallback order** (per region): 1. the `grid_intensity.csv` row for
(provider, region); 2. else the `country_intensity.csv` row for the region's `country_code` in
`estimates/catalog/regions.csv`; 3. else the world average in `world_intensity.csv` ({world} g/kWh).
The app should show which level was used.

**PUE**: the (provider, region) row if present, else the provider-wide row.

**Energy and emissions** for a run of `h` hours:

```
gpu_w  = accelerator_count x (idle_w + u_gpu x (max_w - idle_w))  # when idle/max known
         accelerator_count x tdp_w                                 # upper bound, TDP only
host_w = vcpus x (vcpu_min_w + u_cpu x (vcpu_max_w - vcpu_min_w)) + memory_gib x memory_w_per_gib
energy_kwh  = (gpu_w + host_w) x h / 1000 x PUE
emissions_g  = energy_kwh x intensity_g_per_kwh
```

with `vcpu_min_w`/`vcpu_max_w` taken from `host_power.csv` for the instance's provider
(`aws_*`, `azure_*`, `gcp_*`), `memory_w_per_gib` = 0.392 and `u_cpu` = the measured CPU
utilisation or `default_cpu_utilization` (0.5). This is Cloud Carbon Footprint's compute model
(min + utilisation x (max - min) per vCPU, 0.392 W per GB of memory, times PUE and grid factor).
`vcpus` and `memory_gib` come from `estimates/catalog/instance_types.csv`; they are blank for TPU
slices, so the host term cannot be computed for them (see Not covered).

**Location- vs market-based**: the intensities are location-based. For GCP, a market-based view in
CCF's style is `intensity x (1 - cfe_percent / 100)`; it must be labelled as such and never
replace the location-based figure.

## Which figure was preferred, and why

{preferred_table}

`year` for CCF rows is the CCF commit year (2023). That is an upper bound: CCF does not state the
vintage of the eGRID / carbonfootprint.com data in the constants.

### Chosen grid intensity per priced region, with cross-checks

{region_table}

## Sources and licences

- **Google Cloud region carbon data**: GoogleCloudPlatform/region-carbon-info `data/yearly/2024.csv`
  @ `49f3f26bfd682305e8d9b572fea1f811900421a9`, Apache-2.0 (attribution: Google LLC). Grid carbon
  intensity (gCO2eq/kWh) and Google CFE (fraction, shipped x 100 as a percent).
- **Cloud Carbon Footprint**: {ccf_repo}, Apache-2.0 (attribution: Thoughtworks, Inc.).
  Grid factors, PUE and GPU min/max watts via the reference extraction of
  `packages/{{aws,gcp,azure}}/src/domain/*FootprintEstimationConstants.ts` and `{ccf_core}`
  @ `{ccf_commit}`. CPU per-vCPU watts, the memory coefficient and the default utilisation were
  read from the same constants files @ `{ccf_host_commit}` (stored public copy;
  not in the reference). The AWS values (0.74 / 3.5 W per vCPU, 0.000392 kWh/GB) are the same in an
  older stored version (`3668d2e1d6bb6589e61763f0c6697beec3543ee9`); the GCP medians changed between
  versions (0.71 / 4.26 at `8027bcb3ed5317d95e71eefb541e83f6bf82b158`, 0.68 / 4.11 at
  `{ccf_host_commit_short}`, which also lists AMD EPYC 3rd gen and GPUs and so is probably the
  later one).
- **CodeCarbon**: mlco2/codecarbon, MIT (attribution: the CodeCarbon authors).
  `global_energy_mix.json` @ `4f166a5593132480ae545a54fb61f69d0f58b68b` (country carbon
  intensity, keyed by ISO3 and mapped to alpha-2 with an explicit table in the script) and
  `carbon_intensity_per_source.json` @ `ee46cd4999e63fd500c7941b594cd56e267b1dd9` (world average
  475 g/kWh, which CodeCarbon cites to the IEA Global Energy & CO2 Status Report 2019).
- **mlco2/impact** `data/impact.csv` @ `96c7c2efc276f1ee7a0f932b8975ca7020ecf5db`, MIT: cross-check
  column only.
- **Price catalogue** `estimates/catalog/accelerators.csv`: TDP values are copied with that file's
  own sources.
- **PUE**: Amazon Sustainability, AWS Cloud page
  (https://sustainability.aboutamazon.com/environment/the-cloud/asdi: 1.14 in 2025, 1.15 in 2024;
  1.15 for 2024 also on https://aws.amazon.com/tw/sustainability/data-centers). Google 2024
  Environmental Report announcement
  (https://blog.google/outreach-initiatives/sustainability/2024-environmental-report: 1.10 for
  2023). Press reports of Google's 2025 report give 1.09 for 2024 (e.g. itdaily.com,
  newsbytesapp.com, 2025-07-02); not used because it was not read on a Google page.
- **Equivalents**: US EPA Greenhouse Gas Equivalencies Calculator, Calculations and References
  ({epa_url}); US government work, public domain. The page itself could not be fetched from this
  build environment. Its current figures (3.93 x 10-4 t CO2e/mile, 0.060 t CO2 per tree seedling
  grown 10 years, 1.24 x 10-5 t CO2 per smartphone charge, 4.798 t CO2 per home's electricity per
  year) were taken from independent public transcriptions of the page that agree with each other
  and with EPA's own worked result for 1,000 t CO2e (233 vehicles, 2,546,560 miles, 208 homes'
  electricity). One transcription, made directly from the page on 2026-08-23, states that the
  page was last updated {epa_asof} and uses eGRID2022-vintage inputs; `as_of` is that date.
  Re-check the numbers against the page when it can be fetched. The offset price comes from the
  World Federation of Exchanges research note (Nov 2024) using AlliedOffsets retirement data; it is
  approximate ("$4/tCO2e by the middle of 2024").

## Known defects in the reference, and how they are handled

- `ccf_region_emission_factors.csv`: the `note` column carries TypeScript section comments
  ("APAC regions", "EU regions", "Middle east regions", "Americas regions") on the row *before* the
  section (e.g. Azure `southafricawest`, `westindia`, `norwaywest`, `uaenorth`). Only notes
  starting with `US NERC` are used.
- `ccf_region_emission_factors.csv`: GCP has two rows per region (`grid` and
  `grid_minus_google_CFE`), and in the CFE table `us-central1`/`us-central2` equal the "Unknown"
  average (215.2374), which looks like a copy error upstream. Neither GCP table is used for
  intensity (Google's own {gcp_year} file is); the PUE column is checked to agree between them.
- `ccf_region_emission_factors.csv` PUE: the file holds the PUE CCF *ends up* using, so a GCP value
  of 1.1 cannot be told apart from CCF's default. Only values other than 1.1 become per-region
  rows; `us-east1` and `us-west1` fall back to the provider-wide figure.
- `ccf_gpu_min_max_watts.csv` lists `NVIDIA_A10G` under GCP, which does not offer it. Harmless: the
  build checks that each GPU has the same min/max for every provider.
- `codecarbon_global_energy_mix.json`: {skipped_countries}; the country `year` varies (2009 for
  Western Sahara, 2021 for four French overseas territories, otherwise 2022 or 2023) and is kept
  per row.
- `gcp_region_carbon_2024.csv`: inconsistent number formatting (`497.50`, `366`) and a location
  typo (`Sāo Paulo`). Numbers are normalised; locations are not used. The 2019 file's header says
  "Lifecycle grid carbon intensity" (a different metric); only the {gcp_year} file is used and its
  header is checked.
- `mlco2_impact_cloud_regions.csv`: 2016-2019 figures, some with uncertain comments (e.g. Azure
  `westcentralus`) and odd cities (AWS `us-gov-east-1` "Dublin"). Cross-check column only.
- `mlco2_impact_electricitymap_yearly_averages_2021-10-27.csv`: not used. It stops at 2021, many
  zones have empty recent years, and the values are derived from electricityMap, whose terms must
  be checked before redistribution.
- The CCF constants in the reference are from commit `{ccf_commit_short}`, but the CPU/memory
  constants come from another stored commit (see Sources); both are public CCF code.

## Not covered

- **Region-level intensity for regions that are not priced**: only the {n_regions} regions in
  `estimates/catalog/regions.csv` get rows (new regions fall back to country, then world).
- **Accelerator idle/max power** for {no_minmax}: CCF has no figure for them.
- **TDP** for {no_tdp}: no published or sourced figure (TPU v5e: Google does not publish a TDP).
- **Host power for TPU slices**: `instance_types.csv` has no vCPU/memory for them.
- **CFE% for AWS and Azure**: no per-region carbon-free-energy share was found for them (neither in
  the reference nor by search).
- **Per-region PUE for AWS and Azure**, and current per-campus PUE from Google's own page
  (only CCF's copy was available).
- **Microsoft's own current fleet PUE** (primary page not obtained; CCF's 1.185 is used).
- **Google's 2024 fleet PUE (1.09)**: seen only in press reports, so the 2023 figure (1.10) from
  Google's own page is used.
- **Marginal or hourly intensities**: all figures are annual averages.
- **Embodied (manufacturing) emissions** of servers and accelerators.
- **A precise offset price**: the figure shipped is an approximate market-wide average over all
  project types; prices differ widely by project type (removal vs avoidance credits), vintage and
  registry, and no per-type figure is shipped.
"""


FILES_TABLE = [
    ("File", "Columns", "Rows", "Content"),
    (
        "`grid_intensity.csv`",
        "provider, region, intensity_g_per_kwh, year, cfe_percent, source, basis",
        "{n_grid}",
        "Location-based grid carbon intensity (gCO2e/kWh) for each priced region that has a "
        "region-level figure. `cfe_percent` is Google's carbon-free-energy share (0-100) for "
        "GCP regions, blank for AWS/Azure. `basis` is `region`.",
    ),
    (
        "`country_intensity.csv`",
        "country_code, intensity_g_per_kwh, year, source",
        "{n_country}",
        "Country grid intensity keyed by ISO 3166-1 alpha-2, for every country in CodeCarbon's "
        "energy mix with a positive value (the priced regions need {needed_countries}). `year` "
        "is the data year, which differs per country.",
    ),
    (
        "`world_intensity.csv`",
        "intensity_g_per_kwh, source",
        "{n_world}",
        "World-average fallback.",
    ),
    (
        "`pue.csv`",
        "provider, region, pue, year, source",
        "{n_pue}",
        "One provider-wide row per provider (region blank) plus per-region GCP rows for priced "
        "regions where CCF has a trailing-twelve-month value.",
    ),
    (
        "`accelerator_power.csv`",
        "accelerator, tdp_w, idle_w, max_w, source",
        "{n_accel}",
        "One row per accelerator in `estimates/catalog/accelerators.csv`.",
    ),
    (
        "`host_power.csv`",
        "component, value, unit, source",
        "{n_host}",
        "Constants of the host (CPU + memory) power model below.",
    ),
    (
        "`equivalents.csv`",
        "name, value, unit, source, as_of",
        "{n_equiv}",
        "Everyday equivalents and an offset price.",
    ),
]

DCD_URL = (
    "https://www.datacenterdynamics.com/en/news/aws-global-data-centers-achieved-pue-of-115-"
    "in-2023/"
)
PREFERRED_TABLE = [
    ("Provider", "Grid intensity", "PUE"),
    (
        "GCP",
        "Google's own region-carbon file for {gcp_year} (newest year in the reference, primary "
        "data, location-based; also gives CFE%). Older years, CodeCarbon's `cloud/impact.csv` "
        "(a copy of older Google data) and mlco2 (2016-2019 figures) are not used.",
        "Provider-wide: Google's own published fleet PUE {gcp_pue} ({gcp_pue_year}). Per "
        "region: CCF's per-region trailing-twelve-month PUE where it differs from CCF's 1.1 "
        "default.",
    ),
    (
        "AWS",
        "CCF region factors at `{ccf_commit_short}` (2023): US regions use eGRID NERC-region "
        "factors, others carbonfootprint.com factors. They are newer than mlco2's figures "
        "(2016-2019 eGRID / papers), which are kept only as a cross-check below.",
        "Amazon's own published global PUE {aws_pue} ({aws_pue_year}, as Amazon words it: "
        '"In 2025, our data centers reported ... 1.14"); CCF\'s 1.135 is superseded. Note: '
        f"DatacenterDynamics ({DCD_URL}) dates the previous 1.15 to calendar 2023, so Amazon's "
        '"reported in <year>" may be the reporting year and the 1.14 may describe 2024 '
        "operations.",
    ),
    (
        "Azure",
        "CCF region factors, as for AWS.",
        "CCF's constant {azure_pue}: no Microsoft-owned page with a current number could be "
        "read here. (DatacenterDynamics, Dec 2024, same article as in the AWS cell, reports "
        "Microsoft figures of about 1.18 fleet-wide and 1.12 for its newest facilities; not "
        "used because the primary was not obtained.)",
    ),
]

REGION_TABLE_HEADER = (
    "Provider",
    "Region",
    "Country",
    "Chosen g/kWh (year)",
    "Source",
    "mlco2 g/kWh (2016-2019)",
    "Country g/kWh (year)",
)


def md_table(rows) -> str:
    """Markdown table: first row is the header."""
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(out)


def render_readme(ctx) -> str:
    ctx = dict(ctx)
    ctx["files_table"] = md_table(FILES_TABLE).format(**ctx)
    ctx["preferred_table"] = md_table(PREFERRED_TABLE).format(**ctx)
    return README_TEMPLATE.format(**ctx)


# ---------------------------------------------------------------------------------------------
# Self-check (on the written files)
# ---------------------------------------------------------------------------------------------
def self_check(regions, accels) -> list[str]:
    errors: list[str] = []
    data: dict[str, list[dict[str, str]]] = {}
    for name, header in HEADERS.items():
        path = OUT / name
        if not path.exists():
            errors.append(f"{name}: missing")
            continue
        if read_header(path) != header:
            errors.append(f"{name}: header {read_header(path)} != {header}")
        rows = read_csv(path)
        data[name] = rows
        if not rows:
            errors.append(f"{name}: no rows")
        for i, row in enumerate(rows, start=2):
            if not (row.get("source") or "").strip():
                errors.append(f"{name}:{i}: empty source")
            if None in row or any(v is None for v in row.values()):
                errors.append(f"{name}:{i}: wrong number of columns")

    def positive(name, i, col, value, *, blank_ok=False):
        if value == "" and blank_ok:
            return None
        if not NUM_RE.match(value or "") or Decimal(value) <= 0:
            errors.append(f"{name}:{i}: {col} is not a plain number > 0: {value!r}")
            return None
        return Decimal(value)

    def year_ok(name, i, value):
        if not re.fullmatch(r"(19|20)[0-9]{2}", value or ""):
            errors.append(f"{name}:{i}: bad year {value!r}")

    def no_dups(name, keys):
        if len(keys) != len(set(keys)):
            errors.append(f"{name}: duplicate keys")

    priced = {(r["provider"], r["code"]) for r in regions}
    grid = data.get("grid_intensity.csv", [])
    for i, r in enumerate(grid, start=2):
        v = positive("grid_intensity.csv", i, "intensity_g_per_kwh", r["intensity_g_per_kwh"])
        if v is not None and v > 2000:
            errors.append(f"grid_intensity.csv:{i}: implausible intensity {v}")
        year_ok("grid_intensity.csv", i, r["year"])
        if r["cfe_percent"]:
            if not NUM_RE.match(r["cfe_percent"]) or not 0 <= Decimal(r["cfe_percent"]) <= 100:
                errors.append(f"grid_intensity.csv:{i}: cfe_percent out of 0-100")
        elif r["provider"] == "gcp":
            errors.append(f"grid_intensity.csv:{i}: GCP row without cfe_percent")
        if r["provider"] != "gcp" and r["cfe_percent"]:
            errors.append(f"grid_intensity.csv:{i}: cfe_percent on a non-GCP row")
        if r["basis"] != "region":
            errors.append(f"grid_intensity.csv:{i}: basis must be 'region'")
        if (r["provider"], r["region"]) not in priced:
            errors.append(f"grid_intensity.csv:{i}: region not in estimates regions.csv")
    no_dups("grid_intensity.csv", [(r["provider"], r["region"]) for r in grid])

    country = data.get("country_intensity.csv", [])
    for i, r in enumerate(country, start=2):
        if not re.fullmatch(r"[A-Z]{2}", r["country_code"]):
            errors.append(f"country_intensity.csv:{i}: bad country_code {r['country_code']!r}")
        positive("country_intensity.csv", i, "intensity_g_per_kwh", r["intensity_g_per_kwh"])
        year_ok("country_intensity.csv", i, r["year"])
    no_dups("country_intensity.csv", [r["country_code"] for r in country])

    world = data.get("world_intensity.csv", [])
    if len(world) != 1:
        errors.append("world_intensity.csv: must have exactly one row")
    for i, r in enumerate(world, start=2):
        positive("world_intensity.csv", i, "intensity_g_per_kwh", r["intensity_g_per_kwh"])

    # Fallback coverage: every priced region has a region row or a country row.
    grid_keys = {(r["provider"], r["region"]) for r in grid}
    countries = {r["country_code"] for r in country}
    for r in regions:
        if (r["provider"], r["code"]) not in grid_keys and r["country_code"] not in countries:
            errors.append(f"region {r['provider']} {r['code']}: no region or country intensity")

    pue = data.get("pue.csv", [])
    for i, r in enumerate(pue, start=2):
        v = positive("pue.csv", i, "pue", r["pue"])
        if v is not None and not Decimal(1) <= v < 2:
            errors.append(f"pue.csv:{i}: implausible PUE {v}")
        year_ok("pue.csv", i, r["year"])
        if r["region"] and (r["provider"], r["region"]) not in priced:
            errors.append(f"pue.csv:{i}: region not in estimates regions.csv")
    no_dups("pue.csv", [(r["provider"], r["region"]) for r in pue])
    providers = {r["provider"] for r in regions}
    wide = {r["provider"] for r in pue if not r["region"]}
    if wide != providers:
        errors.append(f"pue.csv: provider-wide rows {sorted(wide)} != {sorted(providers)}")

    acc = data.get("accelerator_power.csv", [])
    for i, r in enumerate(acc, start=2):
        positive("accelerator_power.csv", i, "tdp_w", r["tdp_w"], blank_ok=True)
        lo = positive("accelerator_power.csv", i, "idle_w", r["idle_w"], blank_ok=True)
        hi = positive("accelerator_power.csv", i, "max_w", r["max_w"], blank_ok=True)
        if (lo is None) != (hi is None):
            errors.append(f"accelerator_power.csv:{i}: idle_w and max_w must both be set")
        if lo is not None and hi is not None and lo >= hi:
            errors.append(f"accelerator_power.csv:{i}: idle_w >= max_w")
    names = [r["accelerator"] for r in acc]
    no_dups("accelerator_power.csv", names)
    wanted = {a["name"] for a in accels}
    if set(names) != wanted:
        errors.append(
            f"accelerator_power.csv: accelerators differ from accelerators.csv: "
            f"missing {sorted(wanted - set(names))}, extra {sorted(set(names) - wanted)}"
        )
    tdp_src = {a["name"]: a["tdp_w"] for a in accels}
    for r in acc:
        if r["accelerator"] in tdp_src and (
            (r["tdp_w"] == "") != (tdp_src[r["accelerator"]].strip() == "")
            or (r["tdp_w"] and Decimal(r["tdp_w"]) != Decimal(tdp_src[r["accelerator"]]))
        ):
            errors.append(f"accelerator_power.csv: {r['accelerator']} tdp_w not a copy")

    host = data.get("host_power.csv", [])
    for i, r in enumerate(host, start=2):
        positive("host_power.csv", i, "value", r["value"])
        if not r["unit"]:
            errors.append(f"host_power.csv:{i}: empty unit")
    no_dups("host_power.csv", [r["component"] for r in host])
    if {r["component"] for r in host} != EXPECTED_HOST:
        errors.append("host_power.csv: components differ from the expected set")
    hv = {r["component"]: r["value"] for r in host}
    for p in PROVIDERS:
        lo, hi = hv.get(f"{p}_vcpu_min_w"), hv.get(f"{p}_vcpu_max_w")
        if lo and hi and Decimal(lo) >= Decimal(hi):
            errors.append(f"host_power.csv: {p} vcpu min >= max")
    if hv.get("default_cpu_utilization") and Decimal(hv["default_cpu_utilization"]) > 1:
        errors.append("host_power.csv: default_cpu_utilization must be a fraction")

    eq = data.get("equivalents.csv", [])
    for i, r in enumerate(eq, start=2):
        positive("equivalents.csv", i, "value", r["value"])
        if not DATE_RE.match(r["as_of"]):
            errors.append(f"equivalents.csv:{i}: as_of must be YYYY or YYYY-MM-DD")
        if not r["unit"]:
            errors.append(f"equivalents.csv:{i}: empty unit")
    no_dups("equivalents.csv", [r["name"] for r in eq])
    if {r["name"] for r in eq} != EXPECTED_EQUIVALENTS:
        errors.append("equivalents.csv: names differ from the expected set")

    if not (OUT / "README.md").exists():
        errors.append("README.md: missing")
    return errors


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
def main() -> int:
    regions, accels, _itypes = load_price_catalogue()
    gcp = load_gcp()
    ccf = load_ccf()
    gpus = load_ccf_gpus()
    mlco2 = load_mlco2()
    mix = load_energy_mix()
    world_json = load_world()

    grid, missing = build_grid(regions, gcp, ccf)
    country, skipped = build_country(mix)
    world = build_world(world_json)
    pue, _ccf_pue = build_pue(regions, ccf)
    accel = build_accelerators(accels, gpus)
    host = build_host()
    equivalents = build_equivalents()

    outputs = {
        "grid_intensity.csv": grid,
        "country_intensity.csv": country,
        "world_intensity.csv": world,
        "pue.csv": pue,
        "accelerator_power.csv": accel,
        "host_power.csv": host,
        "equivalents.csv": equivalents,
    }
    for name, rows in outputs.items():
        write_csv(name, rows)

    # README context
    by_key = {(r[0], r[1]): r for r in grid}
    country_by_code = {r[0]: r for r in country}
    table = [REGION_TABLE_HEADER]
    for r in sorted(regions, key=lambda r: (r["provider"], r["code"])):
        key = (r["provider"], r["code"])
        g = by_key.get(key)
        c = country_by_code.get(r["country_code"])
        if g and key[0] == "gcp":
            kind = f"Google {GCP_YEAR} (CFE {g[4]}%)"
        else:
            kind = "CCF" if g else "country"
        ml = mlco2.get(key, "")
        table.append(
            (
                key[0],
                key[1],
                r["country_code"],
                f"{g[2]} ({g[3]})" if g else "- (country fallback)",
                kind,
                fmt(ml) if ml else "-",
                f"{c[1]} ({c[2]})" if c else "-",
            )
        )
    n_fallback = len(regions) - len(grid)
    n_with_country = sum(1 for r in regions if r["country_code"] in country_by_code)
    coverage_line = (
        f"{len(grid)} of {len(regions)} priced regions have a region-level intensity; "
        f"{n_fallback} need the country fallback"
        + (f" ({', '.join(f'{p} {c}' for p, c in missing)})" if missing else "")
        + f"; {n_with_country} of {len(regions)} have their country in country_intensity.csv "
        "(usable as a second level)."
    )
    pue_map = {(r[0], r[1]): r for r in pue}
    no_minmax = [r[0] for r in accel if not r[2]]
    no_tdp = [r[0] for r in accel if not r[1]]
    ctx = {
        "coverage_line": coverage_line,
        "n_grid": len(grid),
        "n_country": len(country),
        "needed_countries": ", ".join(sorted({r["country_code"] for r in regions})),
        "n_world": len(world),
        "n_pue": len(pue),
        "n_accel": len(accel),
        "n_host": len(host),
        "n_equiv": len(equivalents),
        "world": world[0][0],
        "gcp_year": GCP_YEAR,
        "gcp_pue": pue_map[("gcp", "")][2],
        "gcp_pue_year": pue_map[("gcp", "")][3],
        "aws_pue": pue_map[("aws", "")][2],
        "aws_pue_year": pue_map[("aws", "")][3],
        "azure_pue": pue_map[("azure", "")][2],
        "ccf_commit": CCF_COMMIT,
        "ccf_commit_short": CCF_COMMIT[:7],
        "ccf_host_commit": CCF_HOST_COMMIT,
        "ccf_host_commit_short": CCF_HOST_COMMIT[:7],
        "ccf_repo": CCF_REPO,
        "ccf_core": CCF_CORE,
        "region_table": md_table(table),
        "epa_url": EPA_URL,
        "epa_asof": EPA_ASOF,
        "skipped_countries": (
            "; ".join(
                f"{iso3} ({name}) has carbon_intensity {ci} and is left out"
                for iso3, name, ci in skipped
            )
            or "no country was left out"
        ),
        "n_regions": len(regions),
        "no_minmax": ", ".join(no_minmax) or "none",
        "no_tdp": ", ".join(no_tdp) or "none",
    }
    (OUT / "README.md").write_text(render_readme(ctx), encoding="utf-8", newline="\n")

    errors = self_check(regions, accels)
    for name, rows in outputs.items():
        print(f"{name}: {len(rows)} rows")
    print(f"coverage: {coverage_line}")
    if errors:
        print(f"SELF-CHECK FAILED ({len(errors)} problem(s)):", file=sys.stderr)
        for e in errors:
            print(f"  - {e}", file=sys.stderr)
        return 1
    print("self-check: OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BuildError as exc:
        print(f"BUILD FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
