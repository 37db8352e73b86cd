// The OpenAPI 3.1 description of the management API, served at /api/v1/openapi.json. Written from the route
// table and kept beside it; ManagementAPITests checks that every route is described here.

enum OpenAPIDocument {
    static let json = #"""
{
 "openapi": "3.1.0",
 "info": {
  "title": "SwiftOTA management API",
  "version": "1"
 },
 "security": [
  {
   "bearer": []
  }
 ],
 "components": {
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer",
    "description": "the admin token in DATA/admin-token"
   }
  },
  "schemas": {
   "Problem": {
    "type": "object",
    "properties": {
     "type": {
      "type": "string"
     },
     "title": {
      "type": "string"
     },
     "status": {
      "type": "integer"
     },
     "detail": {
      "type": "string"
     }
    },
    "required": [
     "type",
     "title",
     "status",
     "detail"
    ]
   },
   "CreateUpdate": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string"
     },
     "description": {
      "type": "string"
     },
     "fileID": {
      "type": "string"
     },
     "fileName": {
      "type": "string"
     },
     "fileType": {
      "type": "integer"
     },
     "signingProfile": {
      "type": "string"
     },
     "signature": {
      "type": "string"
     },
     "things": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "groups": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "targetSelection": {
      "type": "string",
      "enum": [
       "SNAPSHOT",
       "CONTINUOUS"
      ]
     },
     "rollout": {
      "type": "object",
      "properties": {
       "maximumPerMinute": {
        "type": "integer"
       },
       "exponentialRate": {
        "type": "object",
        "properties": {
         "baseRatePerMinute": {
          "type": "integer"
         },
         "incrementFactor": {
          "type": "number"
         },
         "numberOfNotifiedThings": {
          "type": "integer"
         },
         "numberOfSucceededThings": {
          "type": "integer"
         }
        },
        "required": [
         "baseRatePerMinute",
         "incrementFactor"
        ]
       }
      },
      "required": []
     },
     "abortCriteria": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "failureType": {
         "type": "string",
         "enum": [
          "FAILED",
          "REJECTED",
          "TIMED_OUT",
          "ALL"
         ]
        },
        "thresholdPercentage": {
         "type": "number"
        },
        "minNumberOfExecutedThings": {
         "type": "integer"
        }
       },
       "required": [
        "failureType",
        "thresholdPercentage",
        "minNumberOfExecutedThings"
       ]
      }
     },
     "inProgressTimeoutMinutes": {
      "type": "integer"
     }
    },
    "required": [
     "id",
     "fileID",
     "signingProfile"
    ]
   }
  }
 },
 "paths": {
  "/healthz": {
   "get": {
    "summary": "Liveness and gateway status",
    "tags": [
     "service"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "security": []
   }
  },
  "/api/v1/openapi.json": {
   "get": {
    "summary": "This document",
    "tags": [
     "service"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "security": []
   }
  },
  "/api/v1/things": {
   "get": {
    "summary": "List things",
    "tags": [
     "things"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "array"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    }
   },
   "post": {
    "summary": "Create a thing",
    "tags": [
     "things"
    ],
    "responses": {
     "201": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "name": {
          "type": "string"
         },
         "attributes": {
          "type": "object",
          "additionalProperties": {
           "type": "string"
          }
         }
        },
        "required": [
         "name"
        ]
       }
      }
     }
    }
   }
  },
  "/api/v1/things/{name}": {
   "get": {
    "summary": "A thing with its groups and certificates",
    "tags": [
     "things"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "name",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   },
   "patch": {
    "summary": "Replace a thing's attributes (dynamic group membership follows)",
    "tags": [
     "things"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "attributes": {
          "type": "object",
          "additionalProperties": {
           "type": "string"
          }
         }
        },
        "required": [
         "attributes"
        ]
       }
      }
     }
    },
    "parameters": [
     {
      "name": "name",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/things/{name}/certificates": {
   "post": {
    "summary": "Issue a device certificate from the service CA: from a CSR, or with a generated key returned once",
    "tags": [
     "certificates"
    ],
    "responses": {
     "201": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "csr": {
          "type": "string"
         }
        },
        "required": []
       }
      }
     }
    },
    "parameters": [
     {
      "name": "name",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/things/{name}/certificates/register": {
   "post": {
    "summary": "Register an existing certificate for a thing",
    "tags": [
     "certificates"
    ],
    "responses": {
     "201": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "certificatePEM": {
          "type": "string"
         }
        },
        "required": [
         "certificatePEM"
        ]
       }
      }
     }
    },
    "parameters": [
     {
      "name": "name",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/certificates/{fingerprint}/revoke": {
   "post": {
    "summary": "Revoke a certificate; it can no longer connect",
    "tags": [
     "certificates"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "fingerprint",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/groups": {
   "get": {
    "summary": "List groups",
    "tags": [
     "groups"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "array"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    }
   },
   "post": {
    "summary": "Create a static group, or a dynamic one with a query (attr=value AND ...)",
    "tags": [
     "groups"
    ],
    "responses": {
     "201": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "name": {
          "type": "string"
         },
         "description": {
          "type": "string"
         },
         "query": {
          "type": "string"
         }
        },
        "required": [
         "name"
        ]
       }
      }
     }
    }
   }
  },
  "/api/v1/groups/{name}": {
   "get": {
    "summary": "A group with its members",
    "tags": [
     "groups"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "name",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/groups/{name}/members": {
   "post": {
    "summary": "Add a thing to a static group",
    "tags": [
     "groups"
    ],
    "responses": {
     "204": {
      "description": "done"
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "thing": {
          "type": "string"
         }
        },
        "required": [
         "thing"
        ]
       }
      }
     }
    },
    "parameters": [
     {
      "name": "name",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/groups/{name}/members/{thing}": {
   "delete": {
    "summary": "Remove a thing from a static group",
    "tags": [
     "groups"
    ],
    "responses": {
     "204": {
      "description": "done"
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "name",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "thing",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/files": {
   "get": {
    "summary": "List stored files",
    "tags": [
     "files"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "array"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    }
   },
   "post": {
    "summary": "Upload a file (the body); app images are validated",
    "tags": [
     "files"
    ],
    "responses": {
     "201": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/octet-stream": {
       "schema": {
        "type": "string",
        "format": "binary"
       }
      }
     }
    },
    "parameters": [
     {
      "name": "name",
      "in": "query",
      "required": true,
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "kind",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "enum": [
        "app",
        "data"
       ]
      }
     }
    ]
   }
  },
  "/api/v1/files/{id}": {
   "get": {
    "summary": "A stored file (id = SHA-256 hex)",
    "tags": [
     "files"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/signing-profiles": {
   "get": {
    "summary": "List signing profiles",
    "tags": [
     "signing"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "array"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    }
   },
   "post": {
    "summary": "Create a signing profile: certificate (+ key file to sign for you) or a generated key",
    "tags": [
     "signing"
    ],
    "responses": {
     "201": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "name": {
          "type": "string"
         },
         "certificatePEM": {
          "type": "string"
         },
         "keyPath": {
          "type": "string"
         },
         "generateKey": {
          "type": "boolean"
         },
         "certificatePathOnDevice": {
          "type": "string"
         }
        },
        "required": [
         "name"
        ]
       }
      }
     }
    }
   }
  },
  "/api/v1/updates": {
   "get": {
    "summary": "List OTA updates",
    "tags": [
     "updates"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "array"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    }
   },
   "post": {
    "summary": "Create an OTA update: sign or verify, then job AFR_OTA-<id> and its stream",
    "tags": [
     "updates"
    ],
    "responses": {
     "201": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/CreateUpdate"
       }
      }
     }
    }
   }
  },
  "/api/v1/updates/{id}": {
   "get": {
    "summary": "An update with its job and progress",
    "tags": [
     "updates"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/updates/{id}/cancel": {
   "post": {
    "summary": "Cancel an update's job (force also cancels IN_PROGRESS executions)",
    "tags": [
     "updates"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "force": {
          "type": "boolean"
         }
        },
        "required": []
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/jobs": {
   "get": {
    "summary": "List jobs with progress",
    "tags": [
     "jobs"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "array"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/jobs/{id}": {
   "get": {
    "summary": "A job with progress",
    "tags": [
     "jobs"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/jobs/{id}/executions": {
   "get": {
    "summary": "A job's executions",
    "tags": [
     "jobs"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "array"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/jobs/{id}/cancel": {
   "post": {
    "summary": "Cancel a job",
    "tags": [
     "jobs"
    ],
    "responses": {
     "200": {
      "description": "success",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "default": {
      "description": "problem details (RFC 9457)",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "force": {
          "type": "boolean"
         }
        },
        "required": []
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  }
 }
}
"""#
}
