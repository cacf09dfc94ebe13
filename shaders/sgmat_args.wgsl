// sgmat_args.wgsl: matmul_sgmat.wgsl's subgroup-matrix loads and stores in the syntax whose
// layout is a const bool argument (col_major), as Dawn first shipped
// chromium_experimental_subgroup_matrix. sgmat_template.wgsl is the same in the later syntax
// (layout as a template argument); device.ts probes which one this compiler takes.
// Uses matmul_sgmat.wgsl's workgroup arrays a_tile, b_tile, c_stage (row strides 32, 32, 16).
enable chromium_experimental_subgroup_matrix;

// Rows 16 of X (tokens) by 16 of K, row-major at `offset` of a_tile.
fn sm_left(offset: u32) -> subgroup_matrix_left<f16, 16, 16> {
  return subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&a_tile, offset, false, 32u);
}

// 16 of K by 16 outputs: b_tile holds W rows (outputs) k-contiguous, so column-major.
fn sm_right(offset: u32) -> subgroup_matrix_right<f16, 16, 16> {
  return subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&b_tile, offset, true, 32u);
}

fn sm_store(offset: u32, m: subgroup_matrix_result<f32, 16, 16>) {
  subgroupMatrixStore(&c_stage, offset, m, false, 16u);
}
