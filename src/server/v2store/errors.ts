// The v2 keys API's errors (etcd's v2error): a numeric code, etcd's fixed message for it, a cause (usually
// the key; `detail` here) and the store index when the error happened. They travel as JSON bodies with an HTTP status
// derived from the code, exactly as etcd writes them.

export const V2Code = {
  KeyNotFound: 100,
  TestFailed: 101,
  NotFile: 102,
  NotDir: 104,
  NodeExist: 105,
  RootROnly: 107,
  DirNotEmpty: 108,
  PrevValueRequired: 201,
  TTLNaN: 202,
  IndexNaN: 203,
  InvalidField: 209,
  InvalidForm: 210,
  RaftInternal: 300,
  LeaderElect: 301,
  EventIndexCleared: 401,
} as const;

const MESSAGES: Record<number, string> = {
  100: "Key not found",
  101: "Compare failed",
  102: "Not a file",
  104: "Not a directory",
  105: "Key already exists",
  107: "Root is read only",
  108: "Directory not empty",
  201: "PrevValue is Required in POST form",
  202: "The given TTL in POST form is not a number",
  203: "The given index in POST form is not a number",
  209: "Invalid field",
  210: "Invalid POST form",
  300: "Raft Internal Error",
  301: "During Leader Election",
  401: "The event in requested index is outdated and cleared",
};

/** etcd's HTTP status per code; every other code is 400 Bad Request. */
const STATUS: Record<number, number> = {
  100: 404,
  101: 412,
  102: 403,
  105: 412,
  108: 403,
  300: 500,
  301: 500,
};

/** An error as etcd's v2 API writes it: `{"errorCode":100,"message":"Key not found","cause":"/a","index":7}`. */
export interface V2ErrorJson {
  errorCode: number;
  message: string;
  cause?: string;
  index: number;
}

export class V2Error extends Error {
  constructor(
    readonly errorCode: number,
    readonly detail: string,
    public index = 0,
  ) {
    super(`${MESSAGES[errorCode] ?? "Unknown error"} (${detail})`);
  }

  get status(): number {
    return STATUS[this.errorCode] ?? 400;
  }

  toJSON(): V2ErrorJson {
    const message = MESSAGES[this.errorCode] ?? "";
    if (this.detail === "") return { errorCode: this.errorCode, message, index: this.index };
    return { errorCode: this.errorCode, message, cause: this.detail, index: this.index };
  }

  static fromJSON(j: V2ErrorJson): V2Error {
    return new V2Error(j.errorCode, j.cause ?? "", j.index);
  }
}
