//! Generated garbage at every parser an anonymous or signed-in client can reach — the
//! PostgREST query grammar, JSON bodies, JWTs, Realtime frames in both serializers and
//! binary pushes. Every input must get a well-formed answer (an HTTP error below 500 with
//! a JSON body, or a frame ignored), and the server must keep serving. Bounded in time: a
//! fixed number of cases each, from a fixed seed, so a failure can be replayed.

mod common;

use std::time::Duration;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

const CASES: u32 = 160;

/// Text made mostly of the characters the grammars care about, with some of anything.
fn grammar_text(max: usize) -> impl Strategy<Value = String> {
    let alphabet = prop_oneof![
        8 => proptest::sample::select(
            "abcdeiloqrstnpgm_(),.:=!*\"\\ -0123456789{}[]".chars().collect::<Vec<_>>()
        ),
        1 => any::<char>(),
    ];
    proptest::collection::vec(alphabet, 0..max).prop_map(|chars| chars.into_iter().collect())
}

fn runner() -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    )
}

/// Runs `check` for every generated case on this runtime.
fn each<S: Strategy>(strategy: S, check: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    tokio::task::block_in_place(|| {
        runner()
            .run(&strategy, check)
            .unwrap_or_else(|failure| panic!("{failure}"));
    });
}

fn block<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Handle::current().block_on(future)
}

/// An answer below 500 whose body is JSON (or empty).
async fn well_formed(response: reqwest::Response) -> Result<(), String> {
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if status.is_server_error() {
        return Err(format!("{status}: {text}"));
    }
    if !text.is_empty() && serde_json::from_str::<Value>(&text).is_err() {
        return Err(format!("{status} with a body that is not JSON: {text}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn query_strings_of_garbage_get_well_formed_answers() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_in(CLIENT).await;
    let keys = prop_oneof![
        Just("select".to_string()),
        Just("or".to_string()),
        Just("and".to_string()),
        Just("not.or".to_string()),
        Just("order".to_string()),
        Just("limit".to_string()),
        Just("body".to_string()),
        Just("created_at".to_string()),
        grammar_text(12),
    ];
    // Deep nesting in the two grammars that nest, well formed inside, so the parser
    // really descends (a stack overflow here once killed the whole server).
    let deep = (1usize..2000, any::<bool>()).prop_map(|(depth, select)| {
        if select {
            let value = format!("{}id{}", "a(".repeat(depth), ")".repeat(depth));
            ("select".to_string(), value)
        } else {
            let value = format!("({}id.eq.1{})", "or(".repeat(depth), ")".repeat(depth));
            ("or".to_string(), value)
        }
    });
    let pairs = prop_oneof![4 => (keys, grammar_text(120)), 1 => deep];
    each(pairs, |(key, value)| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(&key, &value)
            .finish();
        let response = block(
            server
                .rest(reqwest::Method::GET, &format!("messages?{query}"), &token)
                .send(),
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        block(well_formed(response)).map_err(TestCaseError::fail)
    });
    assert!(block_alive(&server, &token).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_and_tokens_of_garbage_get_well_formed_answers() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_in(CLIENT).await;
    let bodies = prop_oneof![
        grammar_text(200),
        proptest::collection::vec(any::<u8>(), 0..200)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    ];
    let targets = proptest::sample::select(vec![
        ("rest/v1/messages", true),
        ("rest/v1/rpc/mark_conversation_read", true),
        ("auth/v1/signup", false),
        ("auth/v1/token?grant_type=password", false),
        ("auth/v1/token?grant_type=refresh_token", false),
        ("auth/v1/recover", false),
        ("auth/v1/verify", false),
    ]);
    each((targets, bodies), |((path, as_user), body)| {
        let mut request = server
            .http
            .post(format!("{}/{path}", server.base))
            .header("apikey", &server.anon_key)
            .header("Content-Type", "application/json")
            .body(body);
        if as_user {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = block(request.send()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        block(well_formed(response)).map_err(TestCaseError::fail)
    });
    // Tokens: garbage, and JWT-shaped garbage, in the Authorization header.
    let tokens = prop_oneof![
        grammar_text(80),
        (grammar_text(30), grammar_text(60), grammar_text(30))
            .prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
    ];
    each(tokens, |bad| {
        let header = format!("Bearer {}", bad.replace(['\r', '\n'], ""));
        let Ok(value) = reqwest::header::HeaderValue::from_str(&header) else {
            return Ok(()); // not even a header value: nothing to send
        };
        let response = block(
            server
                .http
                .get(format!("{}/rest/v1/messages?select=id", server.base))
                .header("apikey", &server.anon_key)
                .header("Authorization", value)
                .send(),
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        if response.status() == 200 {
            return Err(TestCaseError::fail("a garbage token was accepted"));
        }
        block(well_formed(response)).map_err(TestCaseError::fail)
    });
    assert!(block_alive(&server, &token).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn realtime_frames_of_garbage_are_survived_by_the_socket_and_its_neighbours() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_in(CLIENT).await;
    let mut neighbour = server.socket("2.0.0").await;
    for vsn in ["1.0.0", "2.0.0"] {
        let socket = server.socket(vsn).await;
        let frames = prop_oneof![
            grammar_text(150).prop_map(|text| Message::Text(text.into())),
            (grammar_text(20), grammar_text(20), grammar_text(60)).prop_map(
                |(topic, event, payload)| {
                    let frame =
                        serde_json::json!([null, "1", format!("realtime:{topic}"), event, payload]);
                    Message::Text(frame.to_string().into())
                }
            ),
            proptest::collection::vec(any::<u8>(), 0..120)
                .prop_map(|bytes| Message::Binary(bytes.into())),
            proptest::collection::vec(any::<u8>(), 0..60).prop_map(|mut bytes| {
                bytes.insert(0, 3); // a kind-3 user broadcast header, then garbage
                Message::Binary(bytes.into())
            }),
        ];
        let shared = std::cell::RefCell::new(socket);
        each(frames, |frame| {
            if block(shared.borrow_mut().try_send_raw(frame)) {
                Ok(())
            } else {
                Err(TestCaseError::fail("the server dropped the connection"))
            }
        });
        let mut socket = shared.into_inner();
        // Every reply to the garbage is a well-formed frame (`next` parses each) that says
        // what was wrong; the socket itself still works.
        let mut errors = 0;
        while let Some(frame) = socket.next(Duration::from_millis(200)).await {
            match frame.event.as_str() {
                "phx_reply" => match frame.payload["status"].as_str() {
                    Some("ok") => {}
                    Some("error") => {
                        let response = &frame.payload["response"];
                        let reason = response["reason"].as_str().or(response["error"].as_str());
                        assert!(reason.is_some_and(|r| !r.is_empty()), "{vsn}: {frame:?}");
                        errors += 1;
                    }
                    _ => panic!("{vsn}: a reply without a status: {frame:?}"),
                },
                "phx_close" | "phx_error" | "system" | "presence_state" | "presence_diff" => {}
                _ => panic!("{vsn}: not an answer to garbage: {frame:?}"),
            }
        }
        // A frame that cannot be decoded has no ref to answer to and is dropped; one that
        // can but is wrong is answered with its reason, also after all that garbage.
        socket
            .push(
                Some("1"),
                "realtime:never-joined",
                "broadcast",
                serde_json::json!({}),
            )
            .await;
        let answer = socket
            .expect("realtime:never-joined", "phx_reply", Duration::from_secs(5))
            .await;
        assert_eq!(
            answer.payload,
            serde_json::json!({"status": "error", "response": {"reason": "unmatched topic"}}),
            "{vsn} after {errors} error replies to the garbage"
        );
        tokio::time::sleep(Duration::from_millis(1_100)).await; // past the rate window
        assert!(
            socket.heartbeat(Duration::from_secs(5)).await,
            "{vsn} socket alive"
        );
    }
    assert!(neighbour.heartbeat(Duration::from_secs(5)).await);
    assert!(block_alive(&server, &token).await);
}

/// A plain request still succeeds.
async fn block_alive(server: &TestServer, token: &str) -> bool {
    server
        .rest(reqwest::Method::GET, "messages?select=id&limit=1", token)
        .send()
        .await
        .is_ok_and(|response| response.status() == 200)
}
