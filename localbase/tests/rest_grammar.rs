//! PostgREST's grammar against a real PostgreSQL, with hostile input in every piece that
//! reaches SQL: logic trees, select aliases and embeds, `on_conflict`, `columns`, RPC
//! arguments by GET, `Prefer`. Nothing may be injected, and the answers keep PostgREST's
//! shapes (Content-Range, single objects, error codes).

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const HOSTILE_VALUES: [&str; 4] = [
    "x');drop table public.messages;--",
    "\"),(true)) or true --",
    "a\\\",b)",
    "'; select pg_sleep(5); --",
];

/// Every row still there and the service key still answers: nothing was injected.
async fn assert_intact(server: &TestServer, token: &str) {
    let rows: Vec<Value> = server
        .rest(Method::GET, "messages?select=id", token)
        .send_json()
        .await;
    assert_eq!(rows.len(), 5, "nothing was injected or deleted");
}

#[tokio::test]
async fn hostile_values_and_identifiers_in_logic_trees_select_and_order() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    for value in HOSTILE_VALUES {
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        for path in [
            format!("messages?or=(body.eq.{encoded},body.ilike.*{encoded}*)"),
            format!("messages?or=(body.eq.\"{encoded}\",and(body.neq.{encoded},read_at.is.null))"),
            format!("messages?not.and=(body.like.{encoded},id.in.({encoded}))"),
            format!("messages?select=id,{encoded}:body"),
            format!("messages?select={encoded}"),
            format!("messages?select=id,sender:profiles!{encoded}(full_name)"),
            format!("messages?select=id,{encoded}(id)"),
            format!("messages?order={encoded}.desc"),
            format!("messages?or=({encoded}.eq.1)"),
        ] {
            let response = server
                .rest(Method::GET, &path, &trainer)
                .send()
                .await
                .unwrap();
            let status = response.status();
            assert!(
                status == StatusCode::OK || status.is_client_error() || status.as_u16() == 300,
                "{path}: {status}"
            );
            if status.is_client_error() {
                let error: Value = response.json().await.unwrap();
                assert!(error["code"].is_string(), "{path}: {error}");
            }
        }
    }
    assert_intact(&server, &trainer).await;
}

#[tokio::test]
async fn or_not_and_embedding_answer_like_postgrest() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let get = |path: String| {
        let request = server.rest(Method::GET, &path, &trainer);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (_, unread_or_from_ivan) = get(format!(
        "messages?select=id&or=(read_at.is.null,sender_id.eq.{CLIENT_ID})"
    ))
    .await;
    assert_eq!(unread_or_from_ivan.as_array().unwrap().len(), 3);
    let (_, not_or) =
        get("messages?select=id&not.or=(read_at.is.null,body.like.*18*)".into()).await;
    assert_eq!(not_or.as_array().unwrap().len(), 2);

    let (_, embedded) = get(format!(
        "messages?select=body,sender:profiles(full_name)&conversation_id=eq.{CONVERSATION}&sender_id=eq.{CLIENT_ID}"
    ))
    .await;
    assert_eq!(
        embedded,
        json!([{"body": "Добре, но клековете бяха тежки.", "sender": {"full_name": "Иван Георгиев"}}])
    );
    let (_, to_many) = get(format!(
        "conversations?select=id,messages(id)&id=eq.{CONVERSATION}"
    ))
    .await;
    assert_eq!(to_many[0]["messages"].as_array().unwrap().len(), 3);
    let (status, ambiguous) = get("conversations?select=profiles(id)".into()).await;
    assert_eq!(status.as_u16(), 300);
    assert_eq!(ambiguous["code"], "PGRST201");
    let (status, none) = get("profiles?select=id,messages_nope(id)".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(none["code"], "PGRST200");
}

#[tokio::test]
async fn counts_ranges_single_objects_and_head() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let page = server
        .rest(
            Method::GET,
            "messages?select=id&order=created_at&limit=2&offset=1",
            &trainer,
        )
        .header("Prefer", "count=exact")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(page.headers()["content-range"], "1-2/5");
    let head = server
        .rest(Method::HEAD, "messages?select=id", &trainer)
        .header("Prefer", "count=exact")
        .send()
        .await
        .unwrap();
    assert_eq!(head.headers()["content-range"], "0-4/5");
    assert_eq!(head.bytes().await.unwrap().len(), 0);
    let beyond = server
        .rest(Method::GET, "messages?offset=50", &trainer)
        .header("Prefer", "count=exact")
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    let single = |path: &str| {
        server
            .rest(Method::GET, path, &trainer)
            .header("Accept", "application/vnd.pgrst.object+json")
            .send()
    };
    let one = single(&format!("profiles?select=full_name&id=eq.{CLIENT_ID}"))
        .await
        .unwrap();
    assert_eq!(
        one.json::<Value>().await.unwrap(),
        json!({"full_name": "Иван Георгиев"})
    );
    let many = single("profiles?select=full_name").await.unwrap();
    assert_eq!(many.status(), StatusCode::NOT_ACCEPTABLE);
    let error: Value = many.json().await.unwrap();
    assert_eq!(error["code"], "PGRST116");
    assert_eq!(error["details"], "The result contains 3 rows");
}

#[tokio::test]
async fn a_single_object_patch_that_hits_several_rows_changes_nothing() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let service = server.state.keys.service_role_key();
    let response = server
        .rest(Method::PATCH, "messages?read_at=is.null", &service)
        .header("Accept", "application/vnd.pgrst.object+json")
        .header("Prefer", "return=representation")
        .json(&json!({"read_at": "2026-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
    let unread: Vec<Value> = server
        .rest(Method::GET, "messages?select=id&read_at=is.null", &trainer)
        .send_json()
        .await;
    assert_eq!(unread.len(), 2, "the transaction was rolled back");
}

#[tokio::test]
async fn upsert_columns_and_missing_default_refuse_hostile_names() {
    let server = TestServer::start().await;
    let service = server.state.keys.service_role_key();
    let id = "d0000000-0000-4000-8000-0000000000b1";
    let row =
        json!({"id": id, "conversation_id": CONVERSATION, "sender_id": CLIENT_ID, "body": "first"});
    for hostile in [
        "id\");drop table public.messages;--",
        "id,\"body\"\"",
        "(select 1)",
    ] {
        let encoded: String = url::form_urlencoded::byte_serialize(hostile.as_bytes()).collect();
        for path in [
            format!("messages?on_conflict={encoded}"),
            format!("messages?columns={encoded}"),
        ] {
            let response = server
                .rest(Method::POST, &path, &service)
                .header("Prefer", "resolution=merge-duplicates,missing=default")
                .json(&row)
                .send()
                .await
                .unwrap();
            assert!(response.status().is_client_error(), "{path}");
        }
        let response = server
            .rest(Method::POST, "messages", &service)
            .json(&json!({"id": id, hostile: 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.json::<Value>().await.unwrap()["code"], "PGRST204");
    }
    // The same row twice merges; values with quotes are stored as written.
    for body in ["first", "it's \"merged\"); --"] {
        let response = server
            .rest(Method::POST, "messages?on_conflict=id", &service)
            .header("Prefer", "resolution=merge-duplicates,return=representation,missing=default")
            .json(&json!([{"id": id, "conversation_id": CONVERSATION, "sender_id": CLIENT_ID, "body": body}]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let rows: Value = response.json().await.unwrap();
        assert_eq!(rows[0]["body"], body);
        assert!(
            rows[0]["created_at"].is_string(),
            "missing=default fills created_at"
        );
    }
    let (trainer, _) = server.sign_in(TRAINER).await;
    let rows: Vec<Value> = server
        .rest(Method::GET, "messages?select=id", &trainer)
        .send_json()
        .await;
    assert_eq!(rows.len(), 6, "five seeded plus the one upserted row");
}

#[tokio::test]
async fn rpc_by_get_binds_arguments_and_runs_read_only() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let summaries: Vec<Value> = server
        .rest(
            Method::GET,
            &format!("rpc/conversation_summaries?select=other_name&other_id=eq.{CLIENT_ID}"),
            &trainer,
        )
        .send_json()
        .await;
    assert_eq!(summaries, vec![json!({"other_name": "Иван Георгиев"})]);

    for value in HOSTILE_VALUES {
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        let response = server
            .rest(
                Method::GET,
                &format!("rpc/mark_conversation_read?conversation={encoded}"),
                &trainer,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{value}");
        assert_eq!(response.json::<Value>().await.unwrap()["code"], "22P02");
    }
    let volatile = server
        .rest(
            Method::GET,
            &format!("rpc/mark_conversation_read?conversation={CONVERSATION}"),
            &trainer,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(volatile.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(volatile.json::<Value>().await.unwrap()["code"], "25006");

    let unknown = server
        .rest(Method::POST, "rpc/mark_conversation_read", &trainer)
        .json(&json!({"conversation": CONVERSATION, "x\"); drop": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.json::<Value>().await.unwrap()["code"], "PGRST202");
    assert_intact(&server, &trainer).await;
}

#[tokio::test]
async fn headers_only_answers_with_a_location() {
    let server = TestServer::start().await;
    let (client, _) = server.sign_in(CLIENT).await;
    let id = "d0000000-0000-4000-8000-0000000000c1";
    let response = server
        .rest(Method::POST, "messages", &client)
        .header("Prefer", "return=headers-only")
        .json(&json!({"id": id, "conversation_id": CONVERSATION, "body": "where am I"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()["location"],
        format!("/messages?id=eq.{id}").as_str()
    );
    assert!(response.bytes().await.unwrap().is_empty());
}
