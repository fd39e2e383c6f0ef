//! TLS to PostgreSQL from a connection string's `sslmode`, against the real test cluster
//! with TLS turned on (a throwaway CA and server certificate made by `openssl`): `require`
//! encrypts, `verify-full` checks the server against the given CA and refuses a server it
//! cannot verify, `disable` stays in the clear.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .status()
        .expect("openssl");
    assert!(status.success(), "openssl {args:?}");
}

/// A CA and a server certificate for 127.0.0.1 signed by it, in `dir`.
fn make_certificates(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=localbase test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.crt",
            "-extfile",
            "server.ext",
        ],
    );
}

async fn uses_tls(url: &str) -> Result<bool, String> {
    let pool = localbase::db::pool(url, 1).map_err(|e| e.to_string())?;
    let client = pool.get().await.map_err(|e| e.to_string())?;
    client
        .query_one(
            "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
            &[],
        )
        .await
        .map(|row| row.get(0))
        .map_err(|e| e.to_string())
}

fn with_query(url: &str, query: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

#[tokio::test]
async fn sslmode_require_encrypts_and_verify_full_checks_the_server() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let data_dir: String = admin
        .query_one("select current_setting('data_directory')", &[])
        .await
        .unwrap()
        .get(0);
    let certificates = std::env::temp_dir().join(format!("localbase-tls-{}", std::process::id()));
    make_certificates(&certificates);
    // The server's key and certificate go where PostgreSQL reads them, owned by its user.
    let owner = std::fs::metadata(&data_dir).map(|m| {
        use std::os::unix::fs::MetadataExt;
        (m.uid(), m.gid())
    });
    for (from, to) in [
        ("server.crt", "localbase_test_tls.crt"),
        ("server.key", "localbase_test_tls.key"),
    ] {
        let target = Path::new(&data_dir).join(to);
        std::fs::copy(certificates.join(from), &target).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        if let Ok((uid, gid)) = owner {
            std::os::unix::fs::chown(&target, Some(uid), Some(gid)).unwrap();
        }
    }
    // One statement at a time: ALTER SYSTEM refuses to run inside a transaction block.
    for statement in [
        "alter system set ssl_cert_file = 'localbase_test_tls.crt'",
        "alter system set ssl_key_file = 'localbase_test_tls.key'",
        "alter system set ssl = on",
        "select pg_reload_conf()",
    ] {
        admin.batch_execute(statement).await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    let url = server.database_url.clone();
    let ca = certificates.join("ca.crt");
    let results = (
        uses_tls(&with_query(&url, "sslmode=disable")).await,
        uses_tls(&with_query(&url, "sslmode=require")).await,
        uses_tls(&with_query(
            &url,
            &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
        ))
        .await,
        uses_tls(&with_query(&url, "sslmode=verify-full")).await,
    );
    // Back to how the shared cluster was, whatever happened.
    for statement in [
        "alter system reset ssl",
        "alter system reset ssl_cert_file",
        "alter system reset ssl_key_file",
        "select pg_reload_conf()",
    ] {
        admin.batch_execute(statement).await.unwrap();
    }
    let _ = std::fs::remove_dir_all(&certificates);

    assert_eq!(results.0, Ok(false), "disable stays in the clear");
    assert_eq!(results.1, Ok(true), "require encrypts");
    assert_eq!(
        results.2,
        Ok(true),
        "verify-full with the CA connects, encrypted"
    );
    let refused = results.3.expect_err("an unverifiable server is refused");
    assert!(
        refused.to_lowercase().contains("certificate") || refused.contains("error"),
        "{refused}"
    );
}
