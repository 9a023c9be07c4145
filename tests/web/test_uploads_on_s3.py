"""The application with its uploads in an S3 bucket (a real S3 API on loopback: tests/storage.py): a document goes
up into the bucket and comes back down from it, through the screens and the API; when the storage cannot be
reached, an upload is refused in words (503) and leaves nothing behind, and a download says so too."""

from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import select

from workflows.infra.storage import S3Bucket
from workflows.infra.uploads import Uploads
from workflows.models import Document

from ..factories import PDF, Factory
from ..storage import dead_endpoint, stored
from .conftest import snapshot
from .test_document_screens import upload

DOWN_ON_UPLOAD = "文件存储暂时无法使用，文件没有保存，请稍后再试"
DOWN = "文件存储暂时无法使用，请稍后再试"


@pytest.fixture
def world(db_session, clock, s3) -> Factory:
    """The factory keeping its papers in the test bucket; the app (tests/web/conftest.py) is given the same."""
    return Factory(db_session, clock, Uploads(s3.storage()))


@pytest.fixture
def case(world):
    case = world.draft()
    world.session.commit()
    return case


@pytest.fixture
def cadre(world, case):
    return world.person("cadre", case.union)


@pytest.fixture
def storage_down(app, s3):
    """The app's storage is the same bucket at an address where nothing answers, as when the service is down."""
    with dead_endpoint() as url:
        live = app.extensions["songnuan"]["uploads"]
        app.extensions["songnuan"]["uploads"] = Uploads(S3Bucket(s3.bucket, url, s3.prefix), live.max_bytes,
                                                         live.quota)
        yield


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_app_keeps_its_uploads_in_the_bucket_its_settings_name(app, s3):
    storage = app.extensions["songnuan"]["uploads"].storage
    assert isinstance(storage, S3Bucket)
    assert (storage.bucket, storage.endpoint_url, storage.prefix) == (s3.bucket, s3.endpoint_url, s3.prefix)


def test_a_document_goes_up_into_the_bucket_and_comes_back_down(pages, world, case, cadre, s3):
    client = pages.as_(cadre)
    assert upload(client, case).status_code == 302
    world.session.expire_all()
    [document] = world.session.scalars(select(Document).where(Document.case_id == case.id)).all()
    assert s3.objects() == [s3.prefix + document.id]  # under its id, nowhere else

    response = client.get(f"/cases/documents/{document.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"

    assert client.post(f"/cases/{case.id}/documents/{document.id}/remove").status_code == 302
    assert s3.objects() == []  # gone once the removal committed


def test_the_api_uploads_and_downloads_through_the_bucket(api, world, case, cadre, s3):
    added = api.call("POST", f"/cases/{case.id}/documents", cadre,
                     data={"kind": "application", "file": (io.BytesIO(PDF), "申请.pdf")},
                     content_type="multipart/form-data")
    assert added.status_code == 201, added.get_json()
    document_id = added.get_json()["id"]
    assert s3.objects() == [s3.prefix + document_id]
    response = api.call("GET", f"/cases/{case.id}/documents/{document_id}", cadre)
    assert response.status_code == 200 and response.data == PDF


def test_an_upload_while_the_storage_is_down_is_refused_in_words_and_changes_nothing(pages, world, case, cadre,
                                                                                     storage_down):
    client = pages.as_(cadre)
    before = snapshot(world)
    response = upload(client, case)
    assert response.status_code == 503
    assert DOWN_ON_UPLOAD in text(response)  # on the case page, beside the upload control
    assert snapshot(world) == before  # no row, no event, no object


def test_the_api_says_the_storage_is_down(api, world, case, cadre, storage_down):
    api.token(cadre)  # signed in before, not by, the refused call
    before = snapshot(world)
    added = api.call("POST", f"/cases/{case.id}/documents", cadre,
                     data={"kind": "application", "file": (io.BytesIO(PDF), "申请.pdf")},
                     content_type="multipart/form-data")
    assert added.status_code == 503
    assert added.get_json() == {"error": "unavailable", "message": DOWN_ON_UPLOAD}
    assert snapshot(world) == before


def test_a_download_while_the_storage_is_down_says_so(pages, world, case, cadre, app, s3):
    world.attach(case, ["application"])
    world.session.commit()
    document_id = case.documents[0].id
    with dead_endpoint() as url:
        app.extensions["songnuan"]["uploads"] = Uploads(S3Bucket(s3.bucket, url, s3.prefix))
        response = pages.as_(cadre).get(f"/cases/documents/{document_id}")
    assert response.status_code == 503 and DOWN in text(response)
    assert document_id in stored(world.uploads)  # nothing lost: it is there when the storage is back


def test_an_object_missing_from_the_bucket_is_the_same_clear_404(pages, world, case, cadre):
    world.attach(case, ["application"])
    world.session.commit()
    world.uploads.storage.delete(case.documents[0].id)
    response = pages.as_(cadre).get(f"/cases/documents/{case.documents[0].id}")
    assert response.status_code == 404 and "资料文件已丢失" in text(response)
