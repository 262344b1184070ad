"""Admin routes and /metrics from a real server process; its log holds no patient data.

The batch is the generator's (seed 5, a fifth defective); the centre's record ids, birth
dates and the quarantined raw input pass through the admin responses, and none of them may
appear in the server's log.
"""

from __future__ import annotations

import httpx2 as httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from adapter.mds.synth import generate
from tests.api.admin_data import SEED, N, clean, defective, fhir_entries
from tests.api.conftest import ADMIN, WRITE, bundle
from tests.live.server import LiveServer


def test_admin_round_trip_over_tcp_logs_no_patient_data(server: LiveServer) -> None:
    generated = list(generate(N, SEED, defects=0.2))
    items = [e for r, _ in generated for e in fhir_entries(r)]
    posted = httpx.post(server.fhir, content=orjson.dumps(bundle("batch", items)), headers=WRITE)
    assert posted.status_code == 200
    listed = httpx.get(f"{server.base}/admin/quarantine", headers=ADMIN).json()["items"]
    assert [i["record_id"] for i in listed] == [r.record_id for _, r, _ in reversed(defective())]
    index, record, _ = defective()[0]
    item = next(i for i in listed if i["record_id"] == record.record_id)
    assert "raw" in httpx.get(f"{server.base}/admin/quarantine/{item['id']}", headers=ADMIN).json()
    fixed = orjson.dumps(bundle("batch", fhir_entries(clean(index))))
    done = httpx.post(f"{server.base}/admin/quarantine/{item['id']}/$reprocess", content=fixed,
                      headers=ADMIN)  # fmt: skip
    assert done.status_code == 200
    missing = httpx.get(f"{server.base}/admin/stats/missing",
                        params={"institution": record.institution}, headers=ADMIN)  # fmt: skip
    assert missing.status_code == 200
    scraped = httpx.get(f"{server.base}/metrics", headers=ADMIN)
    assert scraped.status_code == 200
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for f in text_string_to_metric_families(scraped.text) for s in f.samples}  # fmt: skip
    post = ("mds_adapter_http_requests_total",
            (("method", "POST"), ("route", "/fhir"), ("status", "200")))  # fmt: skip
    reprocess = ("mds_adapter_http_requests_total",
                 (("method", "POST"), ("route", "/admin/quarantine/{quarantine_id}/$reprocess"),
                  ("status", "200")))  # fmt: skip
    assert (values[post], values[reprocess]) == (1.0, 1.0)
    assert httpx.get(f"{server.base}/metrics").status_code == 401
    log = server.log.read_text(errors="replace")
    assert '"path":"/admin/stats/missing"' in log  # the request was logged, without its query
    for r, _ in generated:
        assert r.record_id not in log
        assert fhir_entries(r)[0]["resource"]["id"] not in log
    assert record.institution and record.institution not in log  # the query string is not logged
