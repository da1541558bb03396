// Command lines of the control-plane components. Pure: paths and ports in, argv out; the
// reasons behind the less obvious flags are in docs/test-clusters.md.

export interface PlaneLayout {
  /** The plane's temp dir. */
  dir: string;
  etcdDataDir: string;
  etcdClientPort: number;
  etcdPeerPort: number;
  apiPort: number;
  caPath: string;
  caKeyPath: string;
  servingCertPath: string;
  servingKeyPath: string;
  saKeyPath: string;
  saPubPath: string;
  tokensPath: string;
  controllerManagerKubeconfig: string;
  schedulerKubeconfig: string;
  kwokKubeconfig: string;
  kwokConfigPath: string;
  /** Whether kube-controller-manager runs (the ServiceAccount admission plugin needs it). */
  controllers: boolean;
}

/** The annotation that marks the Nodes kwok plays the kubelet for. */
export const FAKE_NODE_ANNOTATION = "kwok.x-k8s.io/node";

export function etcdArgs(l: PlaneLayout): string[] {
  const client = `http://127.0.0.1:${l.etcdClientPort}`;
  const peer = `http://127.0.0.1:${l.etcdPeerPort}`;
  return [
    "--name=default",
    `--data-dir=${l.etcdDataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    // Throwaway data: durability buys nothing and fsync costs seconds on a busy disk.
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ];
}

export function apiserverArgs(l: PlaneLayout): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${l.etcdClientPort}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${l.apiPort}`,
    // Advertise loopback, and skip the endpoint reconciler that rejects a loopback address.
    "--advertise-address=127.0.0.1",
    "--endpoint-reconciler-type=none",
    `--tls-cert-file=${l.servingCertPath}`,
    `--tls-private-key-file=${l.servingKeyPath}`,
    `--client-ca-file=${l.caPath}`,
    `--token-auth-file=${l.tokensPath}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${l.saPubPath}`,
    `--service-account-signing-key-file=${l.saKeyPath}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    "--authorization-mode=RBAC",
    "--allow-privileged=true",
    "--profiling=false",
    // Without the controller-manager nobody creates default ServiceAccounts, and the admission
    // plugin would reject every Pod.
    ...(l.controllers ? [] : ["--disable-admission-plugins=ServiceAccount"]),
  ];
}

export function controllerManagerArgs(l: PlaneLayout): string[] {
  return [
    `--kubeconfig=${l.controllerManagerKubeconfig}`,
    "--leader-elect=false",
    "--bind-address=127.0.0.1",
    "--secure-port=0",
    `--service-account-private-key-file=${l.saKeyPath}`,
    `--root-ca-file=${l.caPath}`,
    `--cluster-signing-cert-file=${l.caPath}`,
    `--cluster-signing-key-file=${l.caKeyPath}`,
    // Each controller acts as its own ServiceAccount (system:serviceaccount:kube-system:<controller>)
    // with the default RBAC roles, as on a kubeadm cluster.
    "--use-service-account-credentials=true",
    "--controllers=*",
    // kwok renews the fake Nodes' leases; on two loaded cores a renewal can be late by more than
    // the default 40 s grace, and the node lifecycle controller would then mark the Node NotReady
    // and every Pod on it unready — a test failing for the machine's load, not for Flotilla.
    "--node-monitor-grace-period=1h",
  ];
}

export function schedulerArgs(l: PlaneLayout): string[] {
  return [`--kubeconfig=${l.schedulerKubeconfig}`, "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0"];
}

export function kwokArgs(l: PlaneLayout): string[] {
  return [
    `--kubeconfig=${l.kwokKubeconfig}`,
    // Our own (empty) config file, so a user's ~/.kwok/kwok.yaml never changes test behaviour.
    `--config=${l.kwokConfigPath}`,
    `--manage-nodes-with-annotation-selector=${FAKE_NODE_ANNOTATION}=fake`,
    // Fake pod IPs: strings in status only, kept apart from the service range.
    "--cidr=10.244.0.1/16",
  ];
}
