#!/bin/sh
# Makes a throwaway CA and a server certificate signed by it for the local
# TLS tests: DIR/ca.pem (the CA, for --cacert), DIR/server.pem and
# DIR/server.key (for ebmock --tls-cert/--tls-key; names localhost,
# 127.0.0.1 and ::1), and DIR/other.pem/other.key, a self-signed
# certificate no client trusts. Keys are EC P-256: quick to make.
# Usage: tools/tls-ca.sh DIR
set -eu
d=${1:?usage: tls-ca.sh DIR}
mkdir -p "$d"
cd "$d"
umask 077
cat > ext.cnf <<'CNF'
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
CNF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -days 2 -subj "/CN=Early Bird test CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-out server.pem -days 2 -extfile ext.cnf 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout other.key -out other.pem -days 2 -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
rm -f server.csr ext.cnf ca.srl
