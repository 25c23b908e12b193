#!/usr/bin/env node
// A dependency-free MCP stdio server, run by `npx` from a tarball the test builds.
// The JSON-RPC is written by hand: @modelcontextprotocol/sdk is not available offline
// here (not in the npm cache, not installed globally), and tests have no network.
"use strict";
const fs = require("fs");
const readline = require("readline");

const schema = { type: "object", properties: { path: { type: "string" } }, required: ["path"] };
const TOOLS = [
  { name: "hello", description: "Say hello.", inputSchema: { type: "object", properties: {} } },
  { name: "read", description: "Read a file.", inputSchema: schema },
  { name: "touch", description: "Create a file.", inputSchema: schema },
];

function call(name, args) {
  if (name === "hello") return "hello from tiny-mcp (node)";
  try {
    if (name === "read") return "ok " + fs.readFileSync(args.path, "utf8");
    fs.writeFileSync(args.path, "x");
    return "ok";
  } catch (err) {
    return "error " + err.code;
  }
}

function answer(message) {
  const params = message.params || {};
  switch (message.method) {
    case "initialize":
      return {
        protocolVersion: params.protocolVersion || "2025-11-25",
        capabilities: { tools: {} },
        serverInfo: { name: "tiny-mcp-node", version: "0.1.0" },
      };
    case "ping":
      return {};
    case "tools/list":
      return { tools: TOOLS };
    case "tools/call":
      return { content: [{ type: "text", text: call(params.name, params.arguments || {}) }], isError: false };
    default:
      return null;
  }
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const message = JSON.parse(line);
  if (message.id === undefined) return;
  const result = answer(message);
  const reply = { jsonrpc: "2.0", id: message.id };
  if (result === null) reply.error = { code: -32601, message: "method not found" };
  else reply.result = result;
  process.stdout.write(JSON.stringify(reply) + "\n");
});
