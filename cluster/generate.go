package cluster

// wire.pb.go is generated from wire.proto with protoc (Debian's
// protobuf-compiler, 3.21.12) and protoc-gen-go at the version of
// google.golang.org/protobuf in go.mod:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go generate ./cluster
//
//go:generate protoc --go_out=. --go_opt=paths=source_relative wire.proto
