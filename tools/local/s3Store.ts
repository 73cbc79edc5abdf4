// The local S3's objects: each bucket's keys and their versions, in memory, kept as the bucket's
// VersioningConfiguration says (with Status Enabled every write adds a version under a new id and a delete adds a
// delete marker; without it a write replaces the object, whose version id is "null", and a delete removes it).
import { createHash, randomBytes } from 'node:crypto';
import type { CorsRule } from './s3Cors';

export interface LocalBucket {
  name: string;
  cors?: CorsRule[];
  /** VersioningConfiguration Status Enabled: each write adds a version, the older ones kept. */
  versioned?: boolean;
}

export interface S3Object {
  body: Buffer;
  contentType: string;
  /** Content headers stored with it (CONTENT_HEADERS), by lower-case name. */
  headers?: Record<string, string>;
  lastModified: Date;
  etag: string;
  /** Its version's id: S3's opaque id in a versioned bucket, "null" in one without versioning. */
  versionId: string;
  /** A delete marker (DeleteObject in a versioned bucket): no bytes, and the key reads as absent while it is current. */
  deleteMarker?: true;
}

/** S3's version ids are opaque URL-safe strings of 32 characters. */
const newVersionId = () => randomBytes(24).toString('base64url');

/** The buckets' objects: each key's versions, oldest first, the last the current one. */
export class ObjectStore {
  private readonly buckets: Map<string, LocalBucket & { objects: Map<string, S3Object[]> }>;

  constructor(
    buckets: LocalBucket[],
    private readonly now: () => number,
  ) {
    this.buckets = new Map(buckets.map((b) => [b.name, { ...b, objects: new Map<string, S3Object[]>() }]));
  }

  /** The bucket named `name`, if the template has it. */
  bucket(name: string): LocalBucket | undefined {
    return this.buckets.get(name);
  }

  /** Every version stored under `key`, oldest first (delete markers too). */
  versions(bucket: string, key: string): S3Object[] {
    return [...(this.buckets.get(bucket)?.objects.get(key) ?? [])];
  }

  /** The key's current version, or the one named `versionId` (null: the current); a delete marker too. */
  version(bucket: string, key: string, versionId: string | null): S3Object | undefined {
    const versions = this.buckets.get(bucket)?.objects.get(key) ?? [];
    return versionId === null ? versions.at(-1) : versions.find((v) => v.versionId === versionId);
  }

  /** The object under `key` (its current version), unless the key is absent or its current version a delete marker. */
  current(bucket: string, key: string): S3Object | undefined {
    const latest = this.version(bucket, key, null);
    return latest?.deleteMarker ? undefined : latest;
  }

  /** Stores a write of `key`: a new version in a versioned bucket, else the object replaced. */
  store(
    bucket: string,
    key: string,
    body: Buffer,
    contentType: string,
    headers: Record<string, string> = {},
  ): S3Object {
    const into = this.buckets.get(bucket);
    const object: S3Object = {
      body,
      contentType,
      headers,
      lastModified: new Date(this.now()),
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      versionId: into?.versioned ? newVersionId() : 'null',
    };
    if (into) into.objects.set(key, into.versioned ? [...(into.objects.get(key) ?? []), object] : [object]);
    return object;
  }

  /** DeleteObject of the current version: a delete marker in a versioned bucket (returned), else the object is gone. */
  delete(bucket: string, key: string): S3Object | undefined {
    const into = this.buckets.get(bucket);
    if (!into?.versioned) {
      into?.objects.delete(key);
      return undefined;
    }
    const marker: S3Object = {
      body: Buffer.alloc(0),
      contentType: '',
      lastModified: new Date(this.now()),
      etag: '',
      versionId: newVersionId(),
      deleteMarker: true,
    };
    into.objects.set(key, [...(into.objects.get(key) ?? []), marker]);
    return marker;
  }

  /** Removes every version under `key`, as the bucket's lifecycle expiry does in the end. */
  remove(bucket: string, key: string): void {
    this.buckets.get(bucket)?.objects.delete(key);
  }
}
