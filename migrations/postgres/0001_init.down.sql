DROP TABLE faces;
DROP TABLE photos;
DROP TABLE facepass_space;
