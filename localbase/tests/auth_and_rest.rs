//! Auth and PostgREST against a real PostgreSQL: what the app relies on, and that
//! row-level security — not localbase — decides who sees and writes what.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn password_sign_in_refresh_rotation_and_logout() {
    let server = TestServer::start().await;
    let grant = |body: Value, kind: &'static str| {
        server
            .http
            .post(format!("{}/auth/v1/token?grant_type={kind}", server.base))
            .header("apikey", &server.anon_key)
            .header("X-Supabase-Api-Version", "2024-01-01")
            .json(&body)
            .send()
    };
    let wrong = grant(json!({"email": TRAINER, "password": "nope"}), "password")
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    let wrong: Value = wrong.json().await.unwrap();
    assert_eq!(
        wrong,
        json!({"code": "invalid_credentials", "message": "Invalid login credentials"})
    );

    let session: Value = grant(json!({"email": TRAINER, "password": PASSWORD}), "password")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["token_type"], "bearer");
    assert_eq!(session["user"]["email"], TRAINER);
    assert_eq!(
        session["user"]["user_metadata"]["full_name"],
        "Мария Петрова"
    );
    let refresh = session["refresh_token"].as_str().unwrap();

    let rotated = grant(json!({"refresh_token": refresh}), "refresh_token")
        .await
        .unwrap();
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    assert_ne!(rotated["refresh_token"], session["refresh_token"]);
    let reused: Value = grant(json!({"refresh_token": refresh}), "refresh_token")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The answer to a refresh can be lost: the same token then gets the same successor.
    assert_eq!(reused["refresh_token"], rotated["refresh_token"]);

    let user = server
        .http
        .get(format!("{}/auth/v1/user", server.base))
        .header("apikey", &server.anon_key)
        .bearer_auth(rotated["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), 200);

    let logout = server
        .http
        .post(format!("{}/auth/v1/logout?scope=local", server.base))
        .header("apikey", &server.anon_key)
        .bearer_auth(rotated["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    let after_logout: Value = grant(
        json!({"refresh_token": rotated["refresh_token"]}),
        "refresh_token",
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        after_logout["code"], "refresh_token_not_found",
        "logout revokes the session's refresh tokens"
    );
}

#[tokio::test]
async fn requests_without_a_valid_api_key_are_refused() {
    let server = TestServer::start().await;
    let bare = server
        .http
        .get(format!("{}/rest/v1/messages", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);
    let forged = server
        .http
        .get(format!("{}/rest/v1/messages", server.base))
        .header("apikey", "eyJhbGciOiJIUzI1NiJ9.e30.forged")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
}

#[tokio::test]
async fn a_client_of_another_conversation_can_neither_read_nor_write_it() {
    let server = TestServer::start().await;
    let (stranger, _) = server.sign_in(CLIENT2).await;
    let read: Vec<Value> = server
        .rest(
            Method::GET,
            &format!("messages?conversation_id=eq.{CONVERSATION}"),
            &stranger,
        )
        .send_json()
        .await;
    assert!(read.is_empty(), "RLS hides the conversation: {read:?}");
    let insert = server
        .rest(Method::POST, "messages", &stranger)
        .header("Prefer", "return=representation")
        .json(&json!({"conversation_id": CONVERSATION, "body": "let me in"}))
        .send()
        .await
        .unwrap();
    assert_eq!(insert.status(), 403);
    let error: Value = insert.json().await.unwrap();
    assert_eq!(error["code"], "42501");

    let (client, client_id) = server.sign_in(CLIENT).await;
    let spoof = server
        .rest(Method::POST, "messages", &client)
        .json(&json!({"conversation_id": CONVERSATION, "body": "as the trainer", "sender_id": "a1000000-0000-4000-8000-000000000001"}))
        .send()
        .await
        .unwrap();
    assert!(
        spoof.status().is_client_error(),
        "no sending as someone else"
    );
    let own: Vec<Value> = server
        .rest(
            Method::GET,
            &format!("messages?select=sender_id&conversation_id=eq.{CONVERSATION}"),
            &client,
        )
        .send_json()
        .await;
    assert_eq!(own.len(), 3, "the participant sees the seeded history");
    assert!(own.iter().any(|m| m["sender_id"] == client_id.as_str()));
}

#[tokio::test]
async fn inserts_are_idempotent_and_bodies_are_validated_by_the_database() {
    let server = TestServer::start().await;
    let (client, _) = server.sign_in(CLIENT).await;
    let id = "d0000000-0000-4000-8000-00000000000a";
    let send = |body: &'static str| {
        server
            .rest(Method::POST, "messages", &client)
            .header(
                "Prefer",
                "return=representation,resolution=ignore-duplicates",
            )
            .json(&json!({"id": id, "conversation_id": CONVERSATION, "body": body}))
            .send()
    };
    let first: Vec<Value> = send("здравей").await.unwrap().json().await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["body"], "здравей");
    let again = send("здравей").await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(
        again.json::<Vec<Value>>().await.unwrap().len(),
        0,
        "a retry stores nothing twice"
    );

    for bad in [json!("   \n "), json!("ж".repeat(4001))] {
        let response = server
            .rest(Method::POST, "messages", &client)
            .json(&json!({"conversation_id": CONVERSATION, "body": bad}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        assert_eq!(response.json::<Value>().await.unwrap()["code"], "23514");
    }
    let fits = server
        .rest(Method::POST, "messages", &client)
        .json(&json!({"conversation_id": CONVERSATION, "body": "ж".repeat(4000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(fits.status(), 201, "4000 Cyrillic characters fit");
}

#[tokio::test]
async fn filters_order_limit_rpc_and_hostile_input() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let newest: Vec<Value> = server
        .rest(Method::GET, &format!("messages?select=body,created_at&conversation_id=eq.{CONVERSATION}&order=created_at.desc,id.desc&limit=2"), &trainer)
        .send_json().await;
    assert_eq!(newest.len(), 2);
    assert!(newest[0]["created_at"].as_str() > newest[1]["created_at"].as_str());
    assert_eq!(
        newest[0].as_object().unwrap().len(),
        2,
        "only the selected columns"
    );

    let since = newest[1]["created_at"].as_str().unwrap();
    let newer: Vec<Value> = server
        .rest(
            Method::GET,
            &format!(
                "messages?conversation_id=eq.{CONVERSATION}&created_at=gt.{}",
                since.replace('+', "%2B")
            ),
            &trainer,
        )
        .send_json()
        .await;
    assert_eq!(newer.len(), 1);

    let summaries: Vec<Value> = server
        .rest(Method::POST, "rpc/conversation_summaries", &trainer)
        .json(&json!({}))
        .send_json()
        .await;
    assert_eq!(summaries.len(), 2);
    let with_ivan = summaries
        .iter()
        .find(|s| s["conversation_id"] == CONVERSATION)
        .unwrap();
    assert_eq!(with_ivan["other_name"], "Иван Георгиев");
    assert_eq!(
        with_ivan["unread_count"], 0,
        "the trainer has read everything Ivan sent"
    );
    let (client, _) = server.sign_in(CLIENT).await;
    let for_ivan: Vec<Value> = server
        .rest(Method::POST, "rpc/conversation_summaries", &client)
        .send_json()
        .await;
    assert_eq!(for_ivan.len(), 1, "Ivan sees only his own conversation");
    assert_eq!(
        for_ivan[0]["unread_count"], 1,
        "the trainer's last message is unread by Ivan"
    );
    assert_eq!(for_ivan[0]["other_name"], "Мария Петрова");

    for hostile in [
        "messages?body=eq.x');drop table public.messages;--".to_string(),
        "messages?select=id,(select 1)".to_string(),
        "messages?\"id\";drop=eq.1".to_string(),
        "messages?order=id;drop".to_string(),
        "pg_authid?select=*".to_string(),
    ] {
        let response = server
            .rest(Method::GET, &hostile, &trainer)
            .send()
            .await
            .unwrap();
        assert!(
            response.status() == 200 || response.status().is_client_error(),
            "{hostile}: {}",
            response.status()
        );
    }
    let still_there: Vec<Value> = server
        .rest(Method::GET, "messages?select=id", &trainer)
        .send_json()
        .await;
    assert_eq!(still_there.len(), 5, "nothing was injected");
}

#[tokio::test]
async fn a_read_receipt_is_set_once_by_the_server_clock_and_never_undone() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let (client, _) = server.sign_in(CLIENT).await;
    let sent: Vec<Value> = server
        .rest(Method::POST, "messages", &trainer)
        .header("Prefer", "return=representation")
        .json(&json!({"conversation_id": CONVERSATION, "body": "прочети ме"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = sent[0]["id"].as_str().unwrap().to_string();
    let patch = |read_at: Value| {
        server
            .rest(Method::PATCH, &format!("messages?id=eq.{id}"), &client)
            .header("Prefer", "return=representation")
            .json(&json!({ "read_at": read_at }))
            .send()
    };
    // A backdated receipt is stored with the server's time instead.
    let backdated = patch(json!("2000-01-01T00:00:00Z")).await.unwrap();
    assert_eq!(backdated.status(), 200);
    let row = &backdated.json::<Vec<Value>>().await.unwrap()[0];
    let read_at = row["read_at"].as_str().unwrap().to_string();
    assert!(
        read_at.starts_with("20") && !read_at.starts_with("2000"),
        "{read_at}"
    );

    for forged in [json!(null), json!("2030-01-01T00:00:00Z")] {
        let response = patch(forged.clone()).await.unwrap();
        assert_eq!(response.status(), 403, "{forged} is refused");
        assert_eq!(response.json::<Value>().await.unwrap()["code"], "42501");
    }
    let stored: Vec<Value> = server
        .rest(
            Method::GET,
            &format!("messages?id=eq.{id}&select=read_at"),
            &trainer,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored[0]["read_at"], json!(read_at), "the receipt stands");
}
