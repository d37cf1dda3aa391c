//! `wakunode` flags and process lifecycle.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::NodeProcess;

fn run_with(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wakunode"))
        .args(args)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn bad_flag_values_exit_2_with_one_line_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["--tcp-port", "abc"], "--tcp-port"),
        (&["--tcp-port", "70000"], "--tcp-port"),
        (&["--shard", "1024"], "--shard"),
        (
            &[
                "--cluster-id",
                "3",
                "--num-shards-in-network",
                "8",
                "--shard",
                "8",
            ],
            "--shard",
        ),
        (&["--nodekey", "xyz"], "--nodekey"),
        // A content topic alone means one autosharded shard off cluster 1.
        (
            &["--content-topic", "/app/1/chat/proto", "--shard", "1"],
            "--shard",
        ),
        (
            &["--content-topic", "/2/app/1/chat/proto"],
            "--content-topic",
        ),
        (
            &["--num-shards-in-network", "8", "--content-topic", "/bad"],
            "--content-topic",
        ),
        (&["--max-msg-size", "lots"], "--max-msg-size"),
        (&["--protected-shard", "1"], "--protected-shard"),
        (&["--protected-shard", "1:zz"], "--protected-shard"),
        (&["--staticnode", "/ip4/127.0.0.1/tcp/1"], "--staticnode"),
        (&["--log-level", "LOUD"], "--log-level"),
        (
            &["--websocket-secure-support", "true"],
            "--websocket-secure-key-path",
        ),
        (&["--relay", "maybe"], "--relay"),
        (&["--nat", "extip:nowhere"], "--nat"),
        (&["--nat", "magic"], "--nat"),
        (&["--rate-limit", "lightpush:ten/1s"], "--rate-limit"),
        (&["--lightpush", "--relay=false"], "--lightpush"),
        (&["--filternode", "/ip4/1.2.3.4/tcp/1"], "--filternode"),
        (&["--lightpushnode", "nonsense"], "--lightpushnode"),
        (&["--cluster-id", "1", "--shard", "9"], "--shard"),
        (
            &["--store", "--store-max-num-db-connections", "0"],
            "--store-max-num-db-connections",
        ),
        (
            &["--filter", "--filter-subscription-timeout", "0"],
            "--filter-subscription-timeout",
        ),
        (
            &["--filter", "--filter-max-peers-to-serve", "0"],
            "--filter-max-peers-to-serve",
        ),
        (
            &["--filter", "--filter-max-criteria", "0"],
            "--filter-max-criteria",
        ),
    ];
    for (args, flag) in cases {
        let (code, stderr) = run_with(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}

// spec: NET-004
#[test]
fn a_relay_node_of_the_waku_network_needs_one_of_its_shards() {
    // Cluster 1 is always autosharded over its 8 shards (as nwaku), so a
    // node relays all 8 by default and a shard outside them is refused;
    // static sharding is not available to escape that.
    for args in [
        &["--cluster-id", "1", "--shard", "9"][..],
        &[
            "--cluster-id",
            "1",
            "--num-shards-in-network",
            "0",
            "--shard",
            "9",
        ],
        &[
            "--cluster-id",
            "1",
            "--num-shards-in-network",
            "16",
            "--shard",
            "9",
        ],
    ] {
        let (code, stderr) = run_with(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("outside 0..=7"), "{args:?}: {stderr}");
    }
    // A dedicated shard does not replace the network's own.
    let (code, stderr) = run_with(&[
        "--cluster-id",
        "1",
        "--content-topic-shard",
        "myapp=32",
        "--shard",
        "32",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("at least one of its shards 0..=7"),
        "{stderr}"
    );
    // With a shard of the network it starts, dedicated shards on top.
    let node = NodeProcess::spawn(&["--cluster-id", "1", "--shard", "3"]);
    assert_eq!(node.addrs.len(), 1);
    let node = NodeProcess::spawn(&[
        "--cluster-id",
        "1",
        "--content-topic-shard",
        "myapp=32",
        "--shard",
        "3",
        "--shard",
        "32",
    ]);
    assert_eq!(
        node.logged_enr()
            .shards()
            .map(|s| s.shards.into_iter().collect::<Vec<_>>()),
        Some(vec![3, 32])
    );
}

// nwaku's default is autosharding (`--num-shards-in-network 1`, The Waku
// Network's 8 shards on cluster 1) with every shard relayed when no
// `--shard` is given; static sharding is `--num-shards-in-network 0`.
#[test]
fn without_shard_flags_the_node_relays_every_autoshard_as_nwaku() {
    let shards = |args: &[&str]| {
        let node = NodeProcess::spawn(args);
        node.logged_enr().shards().map(|s| (s.cluster, s.shards))
    };
    assert_eq!(
        shards(&["--cluster-id", "42"]),
        Some((42, [0].into_iter().collect()))
    );
    assert_eq!(shards(&["--cluster-id", "1"]), Some((1, (0..8).collect())));
    assert_eq!(
        shards(&["--cluster-id", "42", "--num-shards-in-network", "4"]),
        Some((42, (0..4).collect()))
    );
    assert_eq!(
        shards(&["--cluster-id", "42", "--num-shards-in-network", "0"]),
        None
    );
    // On cluster 1 a shard count is ignored (with a warning), as in nwaku.
    let twn = NodeProcess::spawn(&["--cluster-id", "1", "--num-shards-in-network", "0"]);
    assert_eq!(
        twn.logged_enr().shards().map(|s| (s.cluster, s.shards)),
        Some((1, (0..8).collect()))
    );
    assert!(
        twn.wait_for(
            "--num-shards-in-network 0 is ignored on cluster 1",
            Duration::from_secs(5)
        ),
        "{}",
        twn.log()
    );
    let (code, stderr) = run_with(&["--cluster-id", "42", "--shard", "1"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--num-shards-in-network 0"), "{stderr}");
    // Content topics under static sharding start the node, as in nwaku,
    // and are left out with a warning.
    let node = NodeProcess::spawn(&[
        "--num-shards-in-network",
        "0",
        "--content-topic",
        "/app/1/chat/proto",
    ]);
    assert!(
        node.wait_for(
            "--content-topic /app/1/chat/proto is not subscribed",
            Duration::from_secs(5)
        ),
        "{}",
        node.log()
    );
    assert_eq!(node.logged_enr().shards(), None);
}

#[test]
fn sigterm_stops_the_node_cleanly() {
    let mut node = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0"]);
    let status = node.terminate();
    assert_eq!(status.code(), Some(0), "{}", node.log());
    assert!(node.count("stopped") == 1, "{}", node.log());
}

#[test]
fn sigint_stops_the_node_cleanly() {
    let mut node = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0"]);
    let status = node.signal("INT");
    assert_eq!(status.code(), Some(0), "{}", node.log());
    assert_eq!(node.count("SIGINT received"), 1, "{}", node.log());
    assert_eq!(node.count("stopped"), 1, "{}", node.log());
}

#[test]
fn flags_without_the_flag_they_need_are_warned_about() {
    let node = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--legacy-store",
        "--store-message-retention-policy",
        "capacity:10",
    ]);
    assert!(
        node.wait_for(
            "--legacy-store has no effect without --store",
            Duration::from_secs(5)
        ),
        "{}",
        node.log()
    );
    assert_eq!(
        node.count("--store-message-retention-policy has no effect without --store"),
        1,
        "{}",
        node.log()
    );
    let quiet = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--store",
        "--legacy-store",
        "--store-message-db-url",
        "memory://",
    ]);
    assert_eq!(quiet.count("has no effect"), 0, "{}", quiet.log());
}

// The flags the upstream interop suite and nwaku compose files pass for
// features this node does not have yet (discovery, peer exchange, RLN, store
// sync) start the node, with one warning line each.
#[test]
fn nwaku_flags_of_features_not_here_yet_start_the_node_with_a_warning() {
    let node = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--discv5-bits-per-hop=1",
        "--discv5-table-ip-limit",
        "10",
        "--rendezvous=false",
        "--metrics-logging=false",
        "--dns-discovery=false",
        "--store-sync=false",
        "--rln-relay=false",
        "--rest-admin",
    ]);
    for flag in [
        "--discv5-bits-per-hop",
        "--discv5-table-ip-limit",
        "--rendezvous",
        "--metrics-logging",
        "--dns-discovery",
        "--store-sync",
        "--rln-relay",
    ] {
        assert_eq!(
            node.count(&format!(
                "{flag} is an nwaku flag for a feature this node does not have yet: ignored"
            )),
            1,
            "{flag}\n{}",
            node.log()
        );
    }
    // A flag nwaku does not know is still refused.
    let (code, stderr) = run_with(&["--cluster-id", "7", "--discv5-no-such-thing"]);
    assert_eq!(code, Some(2), "{stderr}");
}

// The start-up lines nwaku's tooling waits for: one per mounted protocol,
// then "Node setup complete".
#[test]
fn logs_nwakus_mount_lines_and_setup_complete() {
    let node = NodeProcess::spawn_with_store(&[
        "--cluster-id",
        "7",
        "--legacy-store",
        "--filter",
        "--lightpush",
    ]);
    assert!(
        node.wait_for("Node setup complete", Duration::from_secs(10)),
        "{}",
        node.log()
    );
    for line in [
        "Created WakuMetadata protocol",
        "mounting relay protocol",
        "mounting waku store protocol",
        "mounting waku legacy store protocol",
        "mounting filter protocol",
        "mounting light push",
    ] {
        assert!(node.count(line) >= 1, "{line}\n{}", node.log());
    }
    // The clients always run, as nwaku's.
    assert_eq!(node.count("mounting filter client"), 1);
    // The filter service starts without relay too, as in nwaku.
    let light = NodeProcess::spawn(&["--relay=false", "--filter"]);
    assert!(
        light.wait_for("mounting filter protocol", Duration::from_secs(10)),
        "{}",
        light.log()
    );
    assert!(light.count("the filter service has nothing to push") >= 1);
}

#[test]
fn a_protected_shard_that_is_not_subscribed_is_warned_about() {
    let key = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
    let node = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--protected-shard",
        &format!("5:{key}"),
    ]);
    assert!(
        node.wait_for("does not subscribe to", Duration::from_secs(5)),
        "{}",
        node.log()
    );
}

// On every interface each listener reports several addresses (one per
// interface); the node must still learn its WebSocket address at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listening_on_every_interface_keeps_every_listener() {
    let node = NodeProcess::spawn(&[
        "--listen-address",
        "0.0.0.0",
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--websocket-support",
    ]);
    let (status, body) = common::http(node.rest_addr(), "GET", "/debug/v1/info", None).await;
    assert_eq!(status, 200, "{body}");
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    let addrs: Vec<&str> = info["listenAddresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(addrs.iter().any(|a| a.contains("/ws/p2p/")), "{addrs:?}");
    assert!(addrs.iter().any(|a| !a.contains("/ws")), "{addrs:?}");
    let enr = node.logged_enr();
    assert!(
        enr.multiaddrs()
            .iter()
            .any(|m| m.to_string().contains("/ws")),
        "{}",
        node.log()
    );
}

#[test]
fn logs_one_full_multiaddr_per_listener() {
    let node = NodeProcess::spawn(&["--cluster-id", "7", "--websocket-support"]);
    assert_eq!(node.addrs.len(), 2, "{}", node.log());
    let addr = node.tcp_addr();
    assert!(matches!(
        addr.iter().last(),
        Some(libp2p::multiaddr::Protocol::P2p(_))
    ));
    assert!(
        node.ws_addr().to_string().contains("/ws/p2p/"),
        "{}",
        node.log()
    );
}

#[test]
fn nodekey_fixes_the_peer_id() {
    let key = "1122334455667788990011223344556677889900112233445566778899001122";
    let a = NodeProcess::spawn(&["--nodekey", key]);
    let b = NodeProcess::spawn(&["--nodekey", key]);
    let peer = |n: &NodeProcess| n.tcp_addr().iter().last().unwrap().to_string();
    assert_eq!(peer(&a), peer(&b));
}

// spec: SHARD-018, SHARD-017
#[test]
fn content_topics_without_a_shard_count_use_the_networks_default() {
    // /app/1/chat/proto is shard 4 of 8, so shard 0 shows the single shard.
    let other = NodeProcess::spawn(&["--cluster-id", "7", "--content-topic", "/app/1/chat/proto"]);
    let shards = other.logged_enr().shards().unwrap();
    assert_eq!(shards.cluster, 7);
    assert_eq!(shards.shards.iter().copied().collect::<Vec<_>>(), vec![0]);
    // Cluster 1 is The Waku Network: 8 shards, all relayed without
    // `--shard` (as nwaku); with one, the content topic's shard is added.
    let twn = NodeProcess::spawn(&["--cluster-id", "1", "--content-topic", "/app/1/chat/proto"]);
    let shards = twn.logged_enr().shards().unwrap();
    assert_eq!(shards.cluster, 1);
    assert_eq!(shards.shards, (0..8).collect());
    let picked = NodeProcess::spawn(&[
        "--cluster-id",
        "1",
        "--shard",
        "0",
        "--content-topic",
        "/app/1/chat/proto",
    ]);
    let shards = picked.logged_enr().shards().unwrap();
    assert_eq!(
        shards.shards.iter().copied().collect::<Vec<_>>(),
        vec![0, 4]
    );
}

#[test]
fn the_logged_enr_describes_the_node() {
    let node = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "2",
        "--shard",
        "5",
        "--websocket-support",
        "--nat=extip:203.0.113.9",
    ]);
    let enr = node.logged_enr();
    let tcp = node.tcp_addr();
    let peer = tcp.iter().last().unwrap();
    assert_eq!(libp2p::multiaddr::Protocol::P2p(enr.peer_id()), peer);
    assert_eq!(enr.ip4(), Some("203.0.113.9".parse().unwrap()));
    let port = tcp
        .iter()
        .find_map(|p| match p {
            libp2p::multiaddr::Protocol::Tcp(p) => Some(p),
            _ => None,
        })
        .unwrap();
    assert_eq!(enr.tcp4(), Some(port));
    assert!(
        enr.capabilities()
            .unwrap()
            .contains(waku_enr::Capability::Relay)
    );
    let shards = enr.shards().unwrap();
    assert_eq!(shards.cluster, 7);
    assert_eq!(
        shards.shards.iter().copied().collect::<Vec<_>>(),
        vec![2, 5]
    );
    assert_eq!(enr.multiaddrs().len(), 1);
    assert!(
        enr.multiaddrs()[0].to_string().ends_with("/ws"),
        "{:?}",
        enr.multiaddrs()
    );
}

// A signal that comes while the node is still starting (here: waiting for a
// database that accepts the connection and never answers) stops it cleanly.
#[test]
fn a_signal_while_starting_stops_the_node_cleanly() {
    use std::io::Read;
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let (connected, in_start) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming().map_while(Result::ok) {
            held.push(conn);
            let _ = connected.send(());
        }
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_wakunode"))
        .args(common::LOOPBACK)
        .args([
            "--store",
            "--store-message-db-url",
            &format!("postgres://waku:waku@127.0.0.1:{port}/waku"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The node is inside its start once it has connected to the database.
    in_start.recv_timeout(Duration::from_secs(20)).unwrap();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("wakunode ignored SIGTERM while starting");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(out.contains("SIGTERM received"), "{out}");
    assert!(!out.contains("Listening on"), "{out}");
}
