// What the program reads of the cluster at preview, in one interface: the live cluster
// (cluster.ts), an empty one for offline renders, and the tests' stand-ins implement it. Each part
// is declared beside the check that reads it.
import type { SnapshotReader } from "./backups";
import type { ReadinessReader } from "./clusterReady";
import type { AccessReader } from "./deployerRights";
import type { KeptReader } from "./kept";
import type { SecretReader } from "./secrets";

/** Reads the kept objects of a stack, and what backups, Secrets, a first up and the deployer's rights need. */
export interface ClusterReader extends KeptReader, SnapshotReader, SecretReader, ReadinessReader, AccessReader {}
