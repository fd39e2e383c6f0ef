//! GoTrue's account endpoints against a real PostgreSQL: sign-up (auto-confirmed, with a
//! session), user updates, logout scopes, and the exact error bodies of both API versions.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct Auth<'a> {
    server: &'a TestServer,
}

impl Auth<'_> {
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.server
            .http
            .request(method, format!("{}/auth/v1/{path}", self.server.base))
            .header("apikey", &self.server.anon_key)
            .header("X-Supabase-Api-Version", "2024-01-01")
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn sign_up(&self, email: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            self.request(Method::POST, "signup")
                .json(&json!({"email": email, "password": password, "data": {"full_name": "Нов"}})),
        )
        .await
    }

    async fn refresh(&self, token: &Value) -> (StatusCode, Value) {
        self.call(
            self.request(Method::POST, "token?grant_type=refresh_token")
                .json(&json!({"refresh_token": token})),
        )
        .await
    }
}

#[tokio::test]
async fn sign_up_returns_a_session_and_refuses_duplicates_weak_passwords_and_bad_emails() {
    let server = TestServer::start().await;
    let auth = Auth { server: &server };
    let (status, session) = auth.sign_up("New@Example.com", "secret1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["user"]["email"], "new@example.com");
    assert_eq!(session["user"]["user_metadata"]["full_name"], "Нов");
    assert!(session["access_token"].is_string());

    let (status, duplicate) = auth.sign_up("new@example.com", "secret1").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        duplicate,
        json!({"code": "user_already_exists", "message": "User already registered"})
    );
    let (status, weak) = auth.sign_up("weak@example.com", "12345").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(weak["code"], "weak_password");
    assert_eq!(weak["weak_password"], json!({"reasons": ["length"]}));
    for bad in [
        "no-at-sign",
        "a@b",
        "x'); drop table auth.users; --@example.com",
    ] {
        let (status, error) = auth.sign_up(bad, "secret1").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error["code"], "validation_failed");
    }
    let (status, anonymous) = auth
        .call(
            auth.request(Method::POST, "signup")
                .json(&json!({"data": {}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(anonymous["code"], "anonymous_provider_disabled");

    // The legacy shape, for clients that send no API version.
    let legacy: Value = server
        .http
        .post(format!("{}/auth/v1/signup", server.base))
        .header("apikey", &server.anon_key)
        .json(&json!({"email": "weak2@example.com", "password": "1"}))
        .send_json()
        .await;
    assert_eq!(legacy["code"], 422);
    assert_eq!(legacy["error_code"], "weak_password");
    assert_eq!(legacy["msg"], "Password should be at least 6 characters.");
}

#[tokio::test]
async fn update_user_merges_metadata_and_changes_password_and_email() {
    let server = TestServer::start().await;
    let auth = Auth { server: &server };
    let (_, session) = auth.sign_up("mover@example.com", "secret1").await;
    let token = session["access_token"].as_str().unwrap();
    let update = |body: Value| {
        auth.call(
            auth.request(Method::PUT, "user")
                .bearer_auth(token)
                .json(&body),
        )
    };
    let (status, user) = update(json!({"data": {"theme": "dark", "full_name": null}})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        user["user_metadata"],
        json!({"theme": "dark"}),
        "null removes a key"
    );

    let (status, same) = update(json!({"password": "secret1"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(same["code"], "same_password");
    let (status, _) = update(json!({"password": "secret2"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, taken) = update(json!({"email": TRAINER})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(taken["code"], "email_exists");
    let (status, moved) = update(json!({"email": "moved@example.com"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(moved["email"], "moved@example.com");

    let (status, _) = auth
        .call(
            auth.request(Method::POST, "token?grant_type=password")
                .json(&json!({"email": "moved@example.com", "password": "secret2"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn logout_scopes_end_exactly_the_sessions_they_name() {
    let server = TestServer::start().await;
    let auth = Auth { server: &server };
    let sign_in = || {
        auth.call(
            auth.request(Method::POST, "token?grant_type=password")
                .json(&json!({"email": CLIENT, "password": PASSWORD})),
        )
    };
    let (_, first) = sign_in().await;
    let (_, second) = sign_in().await;
    let (_, third) = sign_in().await;
    let (_, trainer) = auth
        .call(
            auth.request(Method::POST, "token?grant_type=password")
                .json(&json!({"email": TRAINER, "password": PASSWORD})),
        )
        .await;
    let logout = |session: &Value, scope: &str| {
        auth.request(Method::POST, &format!("logout?scope={scope}"))
            .bearer_auth(session["access_token"].as_str().unwrap())
            .send()
    };
    assert_eq!(logout(&third, "local").await.unwrap().status(), 204);
    assert_eq!(auth.refresh(&third["refresh_token"]).await.0, 400);
    assert_eq!(auth.refresh(&first["refresh_token"]).await.0, 200);

    let (_, fourth) = sign_in().await;
    assert_eq!(logout(&fourth, "others").await.unwrap().status(), 204);
    assert_eq!(auth.refresh(&second["refresh_token"]).await.0, 400);
    let (status, kept) = auth.refresh(&fourth["refresh_token"]).await;
    assert_eq!(status, 200, "others keeps the caller's session");

    let (_, fifth) = sign_in().await;
    let bad_scope = logout(&fifth, "everyone').drop").await.unwrap();
    assert_eq!(bad_scope.status(), 400);
    assert_eq!(logout(&fifth, "global").await.unwrap().status(), 204);
    assert_eq!(auth.refresh(&kept["refresh_token"]).await.0, 400);
    let (status, gone) = auth
        .call(
            auth.request(Method::GET, "user")
                .bearer_auth(fifth["access_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(gone["code"], "session_not_found");
    assert_eq!(
        auth.refresh(&trainer["refresh_token"]).await.0,
        200,
        "another user's sessions are untouched"
    );
}

/// A password sign-in of the client: its session (access and refresh token).
async fn client_session(auth: &Auth<'_>) -> Value {
    auth.call(
        auth.request(Method::POST, "token?grant_type=password")
            .json(&json!({"email": CLIENT, "password": PASSWORD})),
    )
    .await
    .1
}

#[tokio::test]
async fn a_refresh_whose_answer_was_lost_is_answered_again_with_the_same_token() {
    let server = TestServer::start_with(localbase::Settings {
        refresh_token_reuse_interval: std::time::Duration::ZERO,
        ..localbase::Settings::default()
    })
    .await;
    let auth = Auth { server: &server };
    let session = client_session(&auth).await;
    let (_, rotated) = auth.refresh(&session["refresh_token"]).await;
    // The client never saw `rotated` (its request timed out) and tries again.
    let (status, again) = auth.refresh(&session["refresh_token"]).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["refresh_token"], rotated["refresh_token"]);
    assert_eq!(again["user"]["email"], CLIENT);
    let (status, next) = auth.refresh(&again["refresh_token"]).await;
    assert_eq!(status, StatusCode::OK, "the session lives on: {next}");
}

#[tokio::test]
async fn reusing_an_older_refresh_token_revokes_the_session_family() {
    let server = TestServer::start_with(localbase::Settings {
        refresh_token_reuse_interval: std::time::Duration::ZERO,
        ..localbase::Settings::default()
    })
    .await;
    let auth = Auth { server: &server };
    let session = client_session(&auth).await;
    let (_, first) = auth.refresh(&session["refresh_token"]).await;
    let (_, second) = auth.refresh(&first["refresh_token"]).await;
    // The original token is two rotations old: somebody else holds it.
    let (status, reused) = auth.refresh(&session["refresh_token"]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reused["code"], "refresh_token_already_used");
    let (_, family) = auth.refresh(&second["refresh_token"]).await;
    assert_eq!(family["code"], "refresh_token_already_used");
}

#[tokio::test]
async fn within_the_reuse_interval_an_older_refresh_token_still_works() {
    let server = TestServer::start().await; // GoTrue's 10 s interval
    let auth = Auth { server: &server };
    let session = client_session(&auth).await;
    let (_, first) = auth.refresh(&session["refresh_token"]).await;
    let (_, second) = auth.refresh(&first["refresh_token"]).await;
    let (status, reused) = auth.refresh(&session["refresh_token"]).await;
    assert_eq!(status, StatusCode::OK, "{reused}");
    assert_ne!(reused["refresh_token"], second["refresh_token"]);
    assert_eq!(
        auth.refresh(&reused["refresh_token"]).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn access_token_lifetime_follows_the_setting() {
    let server = TestServer::start_with(localbase::Settings {
        jwt_expiry_seconds: 120,
        ..localbase::Settings::default()
    })
    .await;
    let auth = Auth { server: &server };
    let (_, session) = auth.sign_up("short@example.com", "secret1").await;
    assert_eq!(session["expires_in"], 120);
    let claims = server
        .state
        .keys
        .verify(
            session["access_token"].as_str().unwrap(),
            localbase::jwt::now(),
        )
        .unwrap();
    assert!(claims.exp - localbase::jwt::now() <= 120);
}

#[tokio::test]
async fn passwords_past_bcrypts_72_bytes_and_huge_metadata_are_refused() {
    let server = TestServer::start().await;
    let auth = Auth { server: &server };
    let base = "a".repeat(72);
    let (status, body) = auth.sign_up("long@example.com", &format!("{base}b")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "validation_failed", "{body}");
    let (status, _) = auth.sign_up("long@example.com", &base).await;
    assert_eq!(status, StatusCode::OK, "72 bytes is fine");
    // bcrypt would accept any tail after 72 bytes; the tail is refused instead.
    let (status, body) = auth
        .call(
            auth.request(Method::POST, "token?grant_type=password")
                .json(&json!({"email": "long@example.com", "password": format!("{base}WRONG")})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "validation_failed", "{body}");
    assert!(
        body["access_token"].is_null(),
        "a wrong tail does not sign in"
    );

    let huge = json!({"email": "meta@example.com", "password": "secret-1", "data": {"x": "y".repeat(1_500_000)}});
    let (status, body) = auth
        .call(auth.request(Method::POST, "signup").json(&huge))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn signing_in_takes_as_long_for_an_unknown_address_as_for_a_wrong_password() {
    let server = TestServer::start().await;
    let auth = Auth { server: &server };
    // Alternating, so that whatever else the machine does weighs on both alike.
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for round in 0..40 {
        let email = if round % 2 == 0 {
            CLIENT
        } else {
            "nobody@example.com"
        };
        let started = std::time::Instant::now();
        let (status, _) = auth
            .call(
                auth.request(Method::POST, "token?grant_type=password")
                    .json(&json!({"email": email, "password": "not-the-password"})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let times = if round % 2 == 0 {
            &mut known
        } else {
            &mut unknown
        };
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let median = |times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let (known, unknown) = (median(&mut known), median(&mut unknown));
    eprintln!("sign-in refused: known address {known:.1} ms, unknown {unknown:.1} ms");
    assert!(
        unknown > known * 0.6,
        "an unknown address answers in {unknown:.1} ms, a known one in {known:.1} ms: the timing tells"
    );
}
