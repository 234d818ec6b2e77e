//! A typed in-process client for the handler tests: the service's routes without a socket
//! (poem's test client), one method per operation the tests call, every answer read into an
//! [`Answer`] after the checks every answer must pass (its status declared by the spec for
//! its operation, an `X-Request-Id`, no 5xx).

use std::sync::Arc;

use facepass::api::state::AppState;
use facepass::api::{SpecRoutes, routes, spec_json};
use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use poem::http::StatusCode;
use poem::test::{TestClient, TestForm, TestRequestBuilder};
use poem::{Endpoint, EndpointExt};
use serde_json::Value;

use crate::support::API_KEY;

/// Status, JSON body (`Null` when not JSON) and `Retry-After` of an answer.
#[derive(Debug)]
pub struct Answer(pub StatusCode, pub Value, pub Option<String>);

impl Answer {
    /// The error code of an error answer, checking the error's shape.
    pub fn code(&self) -> String {
        code_of(self.0, &self.1)
    }

    /// `details.field` of an error answer.
    pub fn field(&self) -> Option<&str> {
        self.1["error"]["details"]["field"].as_str()
    }

    /// The body of a 200 answer; any other status fails the test.
    pub fn ok(self) -> Value {
        assert_eq!(self.0, StatusCode::OK, "{}", self.1);
        self.1
    }
}

/// The error code of an error answer, checking its shape.
pub fn code_of(status: StatusCode, body: &Value) -> String {
    assert!(
        status.is_client_error() || status.is_server_error(),
        "{status} {body}"
    );
    let error = &body["error"];
    assert!(
        error["message"].is_string() && error["details"].is_object(),
        "{body}"
    );
    error["code"].as_str().expect("a code").to_owned()
}

/// The service's routes over `state`, in process.
pub struct Api<E> {
    client: TestClient<E>,
}

/// [`Api`] over the routes of an application state.
pub fn api<M: Embedder, S: VectorStore, P: PhotoSource>(
    state: &Arc<AppState<M, S, P>>,
) -> Api<impl Endpoint> {
    let spec = Arc::new(SpecRoutes::from_spec(&spec_json(state)));
    let routes = routes(state.clone()).around(move |ep, req| {
        let spec = spec.clone();
        async move {
            let (method, path) = (req.method().to_string(), req.uri().path().to_owned());
            let response = ep.call(req).await?;
            if let Some(declared) = spec.declared(&method, &path) {
                let status = response.status().as_u16();
                assert!(
                    declared.contains(&status),
                    "{method} {path} answered {status}, which its spec does not declare ({declared:?})"
                );
            }
            Ok(response)
        }
    });
    Api {
        client: TestClient::new(routes),
    }
}

impl<E: Endpoint> Api<E> {
    /// `POST /api/v2/index` with the test key.
    pub async fn index(&self, body: &Value) -> Answer {
        self.index_as(API_KEY, body).await
    }

    /// `POST /api/v2/index` with `key`.
    pub async fn index_as(&self, key: &str, body: &Value) -> Answer {
        self.send(
            self.client
                .post("/api/v2/index")
                .header("X-API-Key", key)
                .body_json(body),
        )
        .await
    }

    /// `POST /api/v2/index/batch` with the test key.
    pub async fn batch(&self, body: &Value) -> Answer {
        self.send(
            self.client
                .post("/api/v2/index/batch")
                .header("X-API-Key", API_KEY)
                .body_json(body),
        )
        .await
    }

    /// `POST /api/v2/search` with a multipart form (no key: search is public).
    pub async fn search(&self, form: TestForm) -> Answer {
        self.send(self.client.post("/api/v2/search").multipart(form))
            .await
    }

    /// `GET path` without a key.
    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(path)).await
    }

    /// `GET path` with the test key.
    pub async fn get_with_key(&self, path: &str) -> Answer {
        self.send(self.client.get(path).header("X-API-Key", API_KEY))
            .await
    }

    /// `DELETE path` with `key`.
    pub async fn delete_as(&self, key: &str, path: &str) -> Answer {
        self.send(self.client.delete(path).header("X-API-Key", key))
            .await
    }

    /// The underlying client, for requests no method above makes (malformed bodies, other
    /// content types, headers under test); send them with [`Self::send`].
    pub fn raw(&self) -> &TestClient<E> {
        &self.client
    }

    /// Sends a request and reads its answer; a 5xx fails the test: server-side failures reach
    /// clients here only inside a batch's `errors`.
    pub async fn send(&self, request: TestRequestBuilder<'_, E>) -> Answer {
        let response = request.send().await;
        let status = response.0.status();
        let retry_after = response
            .0
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        assert!(
            response.0.headers().contains_key("x-request-id"),
            "every response has X-Request-Id"
        );
        let bytes = response.0.into_body().into_vec().await.expect("body");
        assert!(
            !status.is_server_error(),
            "unexpected {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
        Answer(
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            retry_after,
        )
    }
}
