"""Write docs/examples/export_gbk.csv: a tiny SYNTHETIC warehouse export in GBK (no real data).

Six customers over six billing months (202501..202506) in the layout of issue 12: 用户ID, 账期,
入网时间 (with the clock), 出账金额, 实收金额, 品牌, 欠费停机次数, 是否离网 (mixed codes 0/1, 是/否,
Y/N, as warehouses write them) and 地市. Run: ``python docs/examples/make_export_gbk.py``.
"""

from __future__ import annotations

import random
from pathlib import Path

HEADER = "用户ID,账期,入网时间,出账金额,实收金额,品牌,欠费停机次数,是否离网,地市"
BRANDS = ("全球通", "动感地带", "神州行")
CITIES = ("广州", "深圳", "佛山")
STAY, LEAVE = ("0", "否", "N"), ("1", "是", "Y")


def rows(seed: int = 12) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(6):
        cid = f"1380000{i:04d}"
        joined = f"20{rng.randint(10, 24):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} 10:31:00"
        base = rng.choice((38, 88, 128, 188, 288, 388))
        last = 6 if i != 4 else 4  # customer 4 leaves in 202504
        for m in range(1, last + 1):
            billed = round(base * rng.uniform(0.8, 1.2), 2)
            paid = billed if rng.random() > 0.1 else round(billed * 0.5, 2)
            churn = rng.choice(LEAVE) if (i == 4 and m == last) else rng.choice(STAY)
            out.append(f"{cid},2025{m:02d},{joined},{billed:.2f},{paid:.2f},{BRANDS[i % 3]},"
                       f"{int(paid < billed)},{churn},{CITIES[i % 3]}")
    return out


def write(path: Path = Path(__file__).with_name("export_gbk.csv")) -> Path:
    path.write_bytes(("\n".join([HEADER, *rows()]) + "\n").encode("gbk"))
    return path


if __name__ == "__main__":
    print(write())
