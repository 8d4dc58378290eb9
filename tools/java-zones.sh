#!/bin/sh
# Writes config/javaZones.json: every zone ID the JVM accepts for -Duser.timezone
# (java.time.ZoneId.getAvailableZoneIds() and java.util.TimeZone.getAvailableIDs()), the union
# over the JDKs given (each a `java` binary; default: the one on PATH), sorted. The config check
# compares time zones with it exactly, as Java does. Run again when a JDK's tz data moves on:
#   tools/java-zones.sh /usr/lib/jvm/java-17-openjdk-amd64/bin/java /usr/lib/jvm/temurin-25-jdk-amd64/bin/java
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/Zones.java" <<'JAVA'
import java.time.ZoneId;
import java.util.Arrays;
import java.util.TimeZone;
import java.util.TreeSet;

public class Zones {
    public static void main(String[] args) {
        TreeSet<String> ids = new TreeSet<>(ZoneId.getAvailableZoneIds());
        ids.addAll(Arrays.asList(TimeZone.getAvailableIDs()));
        ids.forEach(System.out::println);
    }
}
JAVA
[ $# -gt 0 ] || set -- java
for java in "$@"; do
  "$java" "$work/Zones.java" >>"$work/ids"
  echo "$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.runtime.version = //p')" >>"$work/jdks"
done
node -e '
const fs = require("fs");
const ids = [...new Set(fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean))].sort();
const jdks = fs.readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean);
fs.writeFileSync(process.argv[3], JSON.stringify({ jdks, ids }, null, 2) + "\n");
console.log(`${ids.length} zone IDs from JDK ${jdks.join(", ")}`);
' "$work/ids" "$work/jdks" "$here/config/javaZones.json"
