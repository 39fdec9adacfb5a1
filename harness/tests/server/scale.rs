//! Many servers at once: every one ready, each on its own port, each answering as itself.

use std::collections::HashSet;
use std::time::Duration;

use crate::support::{fixtures, get};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_servers_get_distinct_ports_and_answer_as_themselves() {
    const N: usize = 200;
    let spawns = (0..N).map(|_| {
        tokio::spawn(async {
            fixtures()
                .identity_check("/whoami")
                .ready_timeout(Duration::from_secs(120))
                .spawn()
                .await
        })
    });
    let mut servers = Vec::new();
    for spawn in spawns.collect::<Vec<_>>() {
        servers.push(spawn.await.unwrap().unwrap());
    }
    let ports: HashSet<u16> = servers.iter().map(|s| s.port()).collect();
    assert_eq!(ports.len(), N, "distinct ports");
    for server in &servers {
        let whoami = get(server.url(), "whoami");
        let v: serde_json::Value = serde_json::from_str(&whoami).unwrap();
        assert_eq!(v["instance_id"], server.instance_id(), "{whoami}");
    }
}
