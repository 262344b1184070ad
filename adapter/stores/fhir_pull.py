"""Read MDS records from a FHIR server: Bulk Data `$export` where offered, else `$everything`.

    for item in pull_records("http://host:8080/fhir", token="…"):
        ...  # MdsRecord or Finding

The server's CapabilityStatement (`/metadata`) decides: a system-level `export` operation means
Bulk Data (kick-off with `Prefer: respond-async`, polling that honours `Retry-After` within a
bounded total wait, the NDJSON files downloaded to a temporary directory, the job deleted
afterwards); named patients (`patients=`) or a server without `$export` mean one
`Patient/{id}/$everything` per patient (searchset pages followed through `next`). Resources are
read with the FHIR reader (adapter/fhir/read.py), so every record comes with its findings, as
from a file. The NDJSON files of an export hold each resource type apart; `patient_chunks`
regroups them per Patient through a SQLite file next to the downloads, so memory holds one
record's resources at a time (plus the Patient ids and Organizations), and downloads stream to
disk.

HTTP: one `httpx2` client; 429 and 502-504 (and 500 except on a status poll, where it means
the job failed) are retried with exponential back-off and jitter or the server's
`Retry-After` (seconds or an HTTP-date), at most `retries` times, by the policy push uses
(adapter/stores/retry.py); transport failures likewise. Anything else ≥ 400 raises
`PullError` with one line: method, URL, status and the OperationOutcome's diagnostics. The
token goes only to the server's own origin.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from urllib.parse import quote, urlsplit

import httpx2 as httpx
import orjson

from adapter.errors import Finding, SourceError
from adapter.fhir.codes import reference_key
from adapter.fhir.read import read_labelled
from adapter.mds.record import MdsRecord
from adapter.stores.retry import RetryPolicy, retry_after
from adapter.terminology import Terminology

__all__ = [
    "PullError",
    "Puller",
    "labelled_lines",
    "offers_export",
    "patient_chunks",
    "pull_records",
]

_RETRIED = frozenset({429, 500, 502, 503, 504})
_MAX_SLEEP = 30.0


class PullError(SourceError):
    """The server could not be read: unreachable, refused, or the export failed."""


def offers_export(statement: dict[str, Any]) -> bool:
    """Does the CapabilityStatement name a system-level `export` operation?"""
    return any(op.get("name") == "export" for rest in statement.get("rest", ())
               for op in rest.get("operation", ()))  # fmt: skip


def _diagnostics(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no OperationOutcome"
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        found = [str(i.get("diagnostics") or i.get("code")) for i in body.get("issue", ())]
        return "; ".join(found) or "no diagnostics"
    return response.reason_phrase or "no OperationOutcome"


def _object(response: httpx.Response, url: str, what: str) -> dict[str, Any]:
    """The JSON object of an answer, or a one-line PullError naming the URL."""
    try:
        body = response.json()
    except ValueError as exc:
        raise PullError(f"GET {url}: the {what} is not JSON") from exc
    if not isinstance(body, dict):
        raise PullError(f"GET {url}: the {what} is not a JSON object")
    found: dict[str, Any] = body
    return found


def _failure(method: str, url: str, response: httpx.Response) -> str:
    return f"{method} {url}: {response.status_code} {response.reason_phrase}: " + _diagnostics(
        response
    )


@dataclass
class Puller:
    """One server: its base URL, the token, the HTTP client and the retry and wait bounds."""

    base: str
    token: str | None = None
    retries: int = 4
    backoff: float = 0.5
    max_wait: float = 600.0
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60.0))

    def __post_init__(self) -> None:
        self.base = self.base.rstrip("/")
        parts = urlsplit(self.base)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._policy = RetryPolicy(attempts=self.retries + 1, base=self.backoff,
                                   cap=_MAX_SLEEP, max_retry_after=_MAX_SLEEP)  # fmt: skip

    def __enter__(self) -> Puller:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def _headers(self, url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/fhir+json", **(extra or {})}
        same = url == self._origin or url.startswith(self._origin + "/")
        if self.token and same:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _pause(self, response: httpx.Response | None, attempt: int) -> None:
        """Wait before retry number `attempt + 1` (adapter/stores/retry.py, as push does)."""
        given = response.headers.get("retry-after") if response is not None else None
        time.sleep(self._policy.delay(attempt + 1, retry_after(given)))

    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                retry_500: bool = True) -> httpx.Response:  # fmt: skip
        """One request with bounded retries; PullError for a failure that stays."""
        retried = _RETRIED if retry_500 else _RETRIED - {500}
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.client.request(method, url, headers=self._headers(url, headers))
            except httpx.TransportError as exc:
                if last:
                    raise PullError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
                self._pause(None, attempt)
                continue
            if response.status_code in retried and not last:
                self._pause(response, attempt)
                continue
            if response.status_code >= 400:
                raise PullError(_failure(method, url, response))
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def json(self, url: str) -> dict[str, Any]:
        return _object(self.request("GET", url), url, "answer")

    def everything(self, patient: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The searchset pages of one Patient's $everything, labelled for findings."""
        url: str | None = f"{self.base}/Patient/{quote(patient, safe='')}/$everything"
        page = 1
        while url is not None:
            body = self.json(url)
            yield f"Patient/{patient} page {page}", body
            url = next((link.get("url") for link in body.get("link", ())
                        if link.get("relation") == "next"), None)  # fmt: skip
            page += 1

    def export(self, directory: Path) -> list[Path]:
        """Kick off a system-level $export, wait for it, download its files into `directory`."""
        kick = self.request("GET", f"{self.base}/$export",
                            headers={"Prefer": "respond-async"})  # fmt: skip
        status = kick.headers.get("content-location")
        if kick.status_code != 202 or not status:
            raise PullError(f"GET {self.base}/$export: expected 202 with Content-Location, "
                            f"got {kick.status_code}")  # fmt: skip
        deadline = time.monotonic() + self.max_wait
        try:
            manifest = self._wait(status, deadline)
            outputs = manifest.get("output")
            if not isinstance(outputs, list) or not all(
                isinstance(o, dict) and isinstance(o.get("url"), str) for o in outputs
            ):
                raise PullError(f"GET {status}: the manifest has no valid output list")
            files: list[Path] = []
            for n, output in enumerate(outputs, start=1):
                path = directory / f"{output.get('type', 'Resource')}-{n:04d}.ndjson"
                self._download(output["url"], path)
                files.append(path)
            if manifest.get("error"):
                raise PullError(f"the export reported {len(manifest['error'])} error files")
            return files
        finally:
            # the export is read; a job that cannot be deleted is the server's to clean
            with suppress(PullError):
                self.request("DELETE", status)

    def _wait(self, status: str, deadline: float) -> dict[str, Any]:
        while True:
            response = self.request("GET", status, retry_500=False)
            if response.status_code == 200:
                return _object(response, status, "manifest")
            left = deadline - time.monotonic()
            if left <= 0:
                raise PullError(f"the export did not finish within {self.max_wait:g} s")
            given = response.headers.get("retry-after", "")
            wait = float(given) if given.strip().isdigit() else 1.0
            time.sleep(max(0.05, min(wait, left, _MAX_SLEEP)))

    def _download(self, url: str, path: Path) -> None:
        """Stream one file to disk, with the retries of `request` (a broken transfer too)."""
        headers = self._headers(url, {"Accept": "application/fhir+ndjson"})
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                with self.client.stream("GET", url, headers=headers) as response:
                    if response.status_code in _RETRIED and not last:
                        self._pause(response, attempt)
                        continue
                    if response.status_code >= 400:
                        response.read()
                        raise PullError(_failure("GET", url, response))
                    with path.open("wb") as out:
                        for chunk in response.iter_bytes():
                            out.write(chunk)
                    return
            except httpx.TransportError as exc:
                if last:
                    raise PullError(f"GET {url}: {type(exc).__name__}: {exc}") from exc
                self._pause(None, attempt)


def labelled_lines(files: Sequence[Path]) -> Iterator[tuple[str, Any]]:
    """The parsed lines of downloaded NDJSON files, labelled `<file name> line <n>`."""
    for path in files:
        with path.open("rb") as f:
            for number, line in enumerate(f, start=1):
                if line.strip():
                    try:
                        value: Any = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        value = None  # the reader reports it as not a FHIR resource
                    yield f"{path.name} line {number}", value


def patient_chunks(files: Sequence[Path], workdir: Path) -> Iterator[tuple[str, Any]]:
    """The downloaded resources regrouped as one collection Bundle per Patient, via disk.

    The files keep types apart (all Patients, then all Conditions, …), so a reader would hold
    every resource until the last file. Instead each line goes into a SQLite file in `workdir`
    keyed by the Patient it names, and the Patients come back one at a time with their
    resources and Organization, in the order of the Patient lines: memory holds one record's
    resources, the Patient ids and the Organizations. Lines that are not resources, resources
    whose Patient is not in the export, and unused Organizations come last, as they are, for
    the reader to report.
    """
    db = sqlite3.connect(workdir / "by-patient.sqlite")
    try:
        db.execute("CREATE TABLE line (patient TEXT, seq INTEGER PRIMARY KEY, body BLOB)")
        organizations: dict[str, dict[str, Any]] = {}
        patients: dict[str, None] = {}
        batch: list[tuple[str | None, bytes]] = []
        for label, value in labelled_lines(files):
            kind = value.get("resourceType") if isinstance(value, dict) else None
            if kind is None or not isinstance(value, dict):
                yield label, value
                continue
            if kind == "Organization" and isinstance(value.get("id"), str):
                organizations[value["id"]] = value
                continue
            if kind == "Patient" and isinstance(value.get("id"), str):
                key: str | None = value["id"]
                patients[value["id"]] = None
            else:
                key = reference_key(value.get("subject") or value.get("patient"))
            batch.append((key, orjson.dumps(value)))
            if len(batch) >= 1000:
                db.executemany("INSERT INTO line (patient, body) VALUES (?, ?)", batch)
                batch.clear()
        db.executemany("INSERT INTO line (patient, body) VALUES (?, ?)", batch)
        db.execute("CREATE INDEX line_patient ON line (patient, seq)")
        used: set[str] = set()
        query = "SELECT body FROM line WHERE patient = ? ORDER BY seq"
        for patient in patients:
            found = [orjson.loads(b) for (b,) in db.execute(query, (patient,))]
            refs = {reference_key(r.get("managingOrganization")) for r in found}
            orgs = [organizations[k] for k in sorted(k for k in refs if k in organizations)]
            used.update(o["id"] for o in orgs)
            entries = [{"resource": r} for r in [*orgs, *found]]
            yield f"Patient/{patient}", {"resourceType": "Bundle", "type": "collection",
                                         "entry": entries}  # fmt: skip
        db.execute("CREATE TEMP TABLE known (patient TEXT PRIMARY KEY)")
        db.executemany("INSERT INTO known VALUES (?)", [(p,) for p in patients])
        rest = db.execute("SELECT seq, body FROM line WHERE patient IS NULL OR patient NOT IN "
                          "(SELECT patient FROM known) ORDER BY seq")  # fmt: skip
        for seq, body in rest:
            yield f"resource {seq}", orjson.loads(body)
        for key, org in organizations.items():
            if key not in used:
                yield f"Organization/{key}", org
    finally:
        db.close()


def pull_records(
    base: str,
    *,
    token: str | None = None,
    patients: Sequence[str] = (),
    terminology: Terminology | None = None,
    puller: Puller | None = None,
) -> Iterator[MdsRecord | Finding]:
    """Records and findings from the server at `base` (see the module docstring).

    `puller` stays open (the caller's); without one, a Puller is made and closed here."""
    if puller is None:
        with Puller(base, token) as own:
            yield from pull_records(base, patients=patients, terminology=terminology, puller=own)
        return
    p = puller
    terminology = terminology or Terminology.load()
    if patients:
        pages = (page for patient in patients for page in p.everything(patient))
        yield from read_labelled(pages, terminology)
        return
    statement = p.json(f"{p.base}/metadata")
    if not offers_export(statement):
        raise PullError(f"{p.base} offers no $export: name the patients to read (--patient)")
    with TemporaryDirectory(prefix="mds-pull-") as tmp:
        files = p.export(Path(tmp))
        yield from read_labelled(patient_chunks(files, Path(tmp)), terminology)
