// etcd built from go.etcd.io/etcd/server/v3 for Flotilla's test control planes. It lives in a
// module of its own so its dependency graph never meets the Kubernetes one.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
