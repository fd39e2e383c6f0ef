//! `realtime-bench`: starts localbase (release build) on a fresh database and prints
//! Realtime figures: memory per idle connection, broadcast latency and delivered
//! messages per second at several loads, Postgres Changes latency, and private channels
//! (authorised joins and broadcasts, one change fanned out to many subscribers, database
//! broadcasts under load). Load generator and server share the machine, so the figures are
//! a floor, not a ceiling.

mod broadcast;
mod changes;
mod memory;
mod private;
mod server;
mod socket;
mod stats;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use broadcast::Load;
use server::{Launch, Server};

#[derive(Parser)]
#[command(about)]
struct Args {
    /// localbase binary (a release build).
    #[arg(
        long,
        env = "LOCALBASE_BIN",
        default_value = "target/release/localbase"
    )]
    localbase_bin: PathBuf,
    /// Scratch folder: the PostgreSQL cluster (deleted first) and localbase's log.
    #[arg(long, default_value = "target/bench")]
    work_dir: PathBuf,
    #[arg(long, default_value = "supabase")]
    supabase_dir: PathBuf,
    #[arg(long, default_value_t = 54621)]
    port: u16,
    #[arg(long, default_value_t = 54622)]
    db_port: u16,
    /// Broadcast loads, `<connections>/<channel size>@<delivered per second>`.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "100/10@2000,100/10@10000,1000/10@20000,1000/10@40000"
    )]
    loads: Vec<Load>,
    /// Measured seconds per load (after a one-second warm-up).
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Idle sockets opened for the memory figure.
    #[arg(long, default_value_t = 1000)]
    idle_connections: usize,
    /// Inserts timed for Postgres Changes.
    #[arg(long, default_value_t = 200)]
    changes_samples: usize,
    /// Anonymous sockets holding the most expensive subscriptions allowed while a normal
    /// subscriber's changes are timed again.
    #[arg(long, default_value_t = 40)]
    hostile_connections: usize,
    /// Private-channel joins and broadcasts timed.
    #[arg(long, default_value_t = 200)]
    private_samples: usize,
    /// Subscribers of one conversation's changes (each insert fans out to all of them).
    #[arg(long, default_value_t = 100)]
    fan_out: usize,
    /// Messages inserted per second while their database broadcasts are timed.
    #[arg(long, default_value_t = 200)]
    send_rate: usize,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Err(error) = run(args).await {
        eprintln!("realtime-bench: {error}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    stats::now_micros(); // fixes the clock's epoch
    let data_dir = args.work_dir.join("postgres");
    let server = Server::start(&Launch {
        binary: &args.localbase_bin,
        data_dir: &data_dir,
        supabase_dir: &args.supabase_dir,
        port: args.port,
        db_port: args.db_port,
    })?;
    println!(
        "localbase {} (rss {} KiB at start)",
        server.base,
        server.resident_kib()
    );

    let memory = memory::run(&server, args.idle_connections).await?;
    println!(
        "\n## Memory per idle connection\n\n{} sockets: rss {} → {} KiB connected ({:.1} KiB each), {} KiB joined to a channel ({:.1} KiB each)",
        memory.connections,
        memory.before_kib,
        memory.connected_kib,
        memory.per_connection_kib(),
        memory.joined_kib,
        memory.per_joined_connection_kib(),
    );

    println!("\n## Broadcast (public channels, kind-3 pushes, self: false)\n");
    println!("| connections | channels × members | target delivered/s | sent | delivered | lost | delivered/s | p50 | p95 | p99 | max |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let measure = Duration::from_secs(args.seconds);
    for (n, load) in args.loads.iter().enumerate() {
        let result = broadcast::run(&server, *load, measure, &format!("load{n}")).await?;
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        println!(
            "| {} | {} × {} | {} | {} | {} | {} | {:.0} | {} | {} | {} | {} |",
            load.connections,
            load.connections / load.channel_size,
            load.channel_size,
            load.delivered_per_second,
            result.sent,
            result.delivered,
            result.expected.saturating_sub(result.delivered),
            result.delivered_per_second(),
            ms(result.latency.p50),
            ms(result.latency.p95),
            ms(result.latency.p99),
            ms(result.latency.max),
        );
        // Let the sockets of this load close before the next one starts.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    let changes = changes::run(&server, args.changes_samples, Duration::from_millis(20)).await?;
    println!("\n## Postgres Changes (private channel, RLS, filter conversation_id=eq.…)\n");
    println!(
        "insert → change received ({} samples, {} lost): {}",
        changes.change.count, changes.lost, changes.change
    );
    println!("insert → REST 201: {}", changes.insert);

    let trainer = server.sign_in(changes::HOSTILE_USER).await?;
    let hostile_kinds = [
        ("anonymous", None, false),
        ("signed-in (`neq` on text)", Some(trainer.as_str()), false),
        (
            "signed-in (`lt` on a timestamp)",
            Some(trainer.as_str()),
            true,
        ),
    ];
    for (who, token, ordering) in hostile_kinds {
        let hostile =
            changes::hostile_subscribers(&server, args.hostile_connections, token, ordering)
                .await?;
        let beside = changes::run(&server, args.changes_samples, Duration::from_millis(20)).await?;
        println!(
            "\n## Postgres Changes beside {} hostile {who} subscribers (20 listeners × 10 conditions each)\n",
            hostile.len()
        );
        println!(
            "insert → change received ({} samples, {} lost): {}",
            beside.change.count, beside.lost, beside.change
        );
        println!("insert → REST 201: {}", beside.insert);
        drop(hostile);
    }

    println!("\n## Private channels (`conversation:{{id}}`, authorised by the realtime.messages policies)\n");
    let joins = private::joins(&server, args.private_samples).await?;
    println!(
        "join → ok reply ({} joins, each on a new socket): {joins}",
        joins.count
    );
    let (broadcast, lost) = private::broadcasts(&server, args.private_samples).await?;
    println!(
        "trainer → client broadcast ({} sent one at a time, {lost} lost): {broadcast}",
        broadcast.count + lost
    );
    let (every, last, lost) =
        private::fan_out(&server, args.fan_out, args.changes_samples / 4).await?;
    println!(
        "one insert, {} subscribers of its change ({} inserts, {lost} deliveries lost): \
         every delivery {every}; the last subscriber {last}",
        args.fan_out, last.count
    );
    let load = private::database_broadcasts(&server, args.send_rate, args.seconds).await?;
    println!(
        "realtime.send from the insert trigger, {}/s for {:.0} s ({} inserted, {} lost): insert → inbox broadcast {}",
        load.target_per_second, load.seconds, load.inserted, load.lost, load.latency
    );
    Ok(())
}
